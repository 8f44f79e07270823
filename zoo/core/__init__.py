"""The numpy-only base that models, training, export and serving all stand on: no Keras, no framework."""
