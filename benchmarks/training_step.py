"""`python -m benchmarks.training_step`: what one training step of the char RNN (`char_rnn_shakespeare`) costs on this
machine, and how long its recipe's run would take at that speed.

Every runner takes the same steps: the recipe's first training batches (64 windows of 128 characters), timed by
`benchmarks.keras_timing.measure` after untimed ones for at least 0.2 s (the first compiles). The runners:
- `zoo train`'s own step: the recipe's model, loss and optimizer compiled as training compiles them, stepped by
  `train_on_batch`, on each Keras backend, in float32 and in mixed_bfloat16;
- a float32 reference without Keras: the same model, loss, dropout and Adam update written by hand in JAX and jitted
  into one program, each layer's input projection hoisted out of the recurrence (one large matmul for all steps), and
  a backward pass written by hand, so that the loop over time holds one matmul per step each way and the recurrent
  kernel's gradient is one large matmul after it.
Each runner runs in a process of its own: Keras fixes its backend when it is first imported.
"""
import argparse
import itertools
import json
import statistics
import sys

from benchmarks.__main__ import REPOSITORY
from benchmarks.keras_timing import measure
from zoo.core.backends import run_python

PRESET = "char_rnn_shakespeare"
HAND_WRITTEN = "reference"
RUNNERS = {
    "keras jax, float32 (zoo train)": ("jax", "float32"),
    "keras jax, mixed_bfloat16": ("jax", "mixed_bfloat16"),
    "keras torch, float32": ("torch", "float32"),
    "keras torch, mixed_bfloat16": ("torch", "mixed_bfloat16"),
    "keras tensorflow, float32": ("tensorflow", "float32"),
    "jax by hand: jitted, input projections hoisted, own backward pass": ("jax", HAND_WRITTEN),
}
MAX_STEPS = 100  # the recipe's first batches: an epoch holds 511
BUDGET_HOURS = 2  # what the issue sizes a preset's training to on these 2 cores


def recurrence(z, recurrent_kernel):
    """h_t = tanh(z_t + h_{t-1} U) from a zero state, over the time-major input projections `z` (T, B, H)."""
    import jax
    import jax.numpy as jnp

    def step(state, projected):
        state = jnp.tanh(projected + state @ recurrent_kernel)
        return state, state

    return jax.lax.scan(step, jnp.zeros(z.shape[1:], z.dtype), z)[1]


def recurrence_forward(z, recurrent_kernel):
    states = recurrence(z, recurrent_kernel)
    return states, (states, recurrent_kernel)


def recurrence_backward(saved, state_gradients):
    """Back through time with one matmul per step; U's gradient is one matmul over all steps afterwards."""
    import jax
    import jax.numpy as jnp

    states, recurrent_kernel = saved

    def step(carried, inputs):
        gradient, state = inputs
        projected = (gradient + carried) * (1 - state * state)
        return projected @ recurrent_kernel.T, projected

    projected = jax.lax.scan(step, jnp.zeros(states.shape[1:], states.dtype), (state_gradients, states), reverse=True)[1]
    previous = jnp.concatenate([jnp.zeros_like(states[:1]), states[:-1]])
    width = states.shape[-1]
    return projected, previous.reshape(-1, width).T @ projected.reshape(-1, width)


def hand_written_step(model, recipe):
    """A jitted JAX step of `model`'s math (a VanillaRNN language model) with Adam and per-variable gradient clipping at
    norm 1, as `training.fit.compile_model` sets; it starts from `model`'s weights and keeps its own."""
    import jax
    import jax.numpy as jnp

    tanh_recurrence = jax.custom_vjp(recurrence)
    tanh_recurrence.defvjp(recurrence_forward, recurrence_backward)
    rate, keep = recipe.learning_rate, 1 - recipe.model["dropout"]

    def loss(weights, inputs, targets, key):
        embeddings, *layers, head_kernel, head_bias = weights
        outputs = embeddings[inputs.T]
        for index in range(0, len(layers), 3):
            kernel, recurrent_kernel, bias = layers[index : index + 3]
            outputs = tanh_recurrence(outputs @ kernel + bias, recurrent_kernel)
            key, drop = jax.random.split(key)
            outputs = jnp.where(jax.random.bernoulli(drop, keep, outputs.shape), outputs / keep, 0)
        log_probs = jax.nn.log_softmax(outputs @ head_kernel + head_bias)
        return -jnp.take_along_axis(log_probs, targets.T[..., None], axis=-1).mean()

    @jax.jit
    def step(state, inputs, targets):
        weights, moments, squares, count = state
        value, gradients = jax.value_and_grad(loss)(weights, inputs, targets, jax.random.fold_in(jax.random.PRNGKey(0), count))
        gradients = [gradient * jnp.minimum(1, 1 / (jnp.linalg.norm(gradient) + 1e-12)) for gradient in gradients]
        count = count + 1
        moments = [0.9 * moment + 0.1 * gradient for moment, gradient in zip(moments, gradients)]
        squares = [0.999 * square + 0.001 * gradient**2 for square, gradient in zip(squares, gradients)]
        size = rate * jnp.sqrt(1 - 0.999**count) / (1 - 0.9**count)
        weights = [weight - size * moment / (jnp.sqrt(square) + 1e-7) for weight, moment, square in zip(weights, moments, squares)]
        return (weights, moments, squares, count), value

    weights = [jnp.asarray(weight) for weight in model.get_weights()]
    state = [weights, [jnp.zeros_like(weight) for weight in weights], [jnp.zeros_like(weight) for weight in weights], 0]

    def run(inputs, targets):
        nonlocal state
        state, value = step(state, inputs, targets)
        return float(value)  # waits for the step, as Keras' logs do

    return run


def time_runner(policy, steps):
    """Seconds of each of `steps` timed training steps of the char RNN under a dtype `policy` (or HAND_WRITTEN). Runs in
    a process whose Keras backend is set."""
    import keras

    from training.fit import build_model, compile_model
    from training.recipes import RECIPES

    recipe = RECIPES[PRESET]
    tokenizer, data = recipe.task_module.prepare(recipe, 0)
    batches = data["train"]
    if policy != HAND_WRITTEN:
        keras.config.set_dtype_policy(policy)
    model = build_model(recipe, tokenizer)
    if policy == HAND_WRITTEN:
        train_on_batch = hand_written_step(model, recipe)
    else:
        compile_model(model, recipe, recipe.epochs * len(batches))
        train_on_batch = model.train_on_batch
    batch = (batches[index] for index in itertools.count())
    return measure(lambda: train_on_batch(*next(batch)), steps)


def preset_training():
    """How the shipped preset was trained, from its metadata: seconds per step, steps, machine and date."""
    from zoo.presets import Preset

    training = Preset(PRESET).metadata["training"]
    return training["seconds"] / training["steps"], training


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training_step", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per runner (default 10)")
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.steps <= MAX_STEPS:
        parser.error(f"--steps must be from 1 to {MAX_STEPS}")
    per_step, training = preset_training()
    print(f"{PRESET}: median of {arguments.steps} steps of {training['batch_size']} after untimed ones for at least 0.2 s (the first compiles); the recipe is {training['epochs']} epochs, {training['steps']:,} steps.\n")
    print(f"| runner | s/step | the recipe's {training['steps']:,} steps, h | steps in {BUDGET_HOURS} h |\n|---|--:|--:|--:|")
    for runner, (backend, policy) in RUNNERS.items():
        code = f"import json; from benchmarks.training_step import time_runner; print(json.dumps(time_runner({policy!r}, {arguments.steps})))"
        seconds = statistics.median(json.loads(run_python(["-c", code], backend, what=runner, cwd=REPOSITORY).strip().splitlines()[-1]))
        print(f"| {runner} | {seconds:.3f} | {training['steps'] * seconds / 3600:.2f} | {BUDGET_HOURS * 3600 / seconds:,.0f} |", flush=True)
    print(
        f"\nThe shipped preset trained at {per_step:.3f} s/step (validation included): {training['seconds'] / 3600:.2f} h on"
        f" {training['backend']}, {training['machine']}, {training['date']}."
    )


if __name__ == "__main__":
    sys.exit(main())
