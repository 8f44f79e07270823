"""English -> French number words (PyPI `num2words`, cardinals): a translation task of exact, known length.

Numbers of 1 to 12 digits; the held-out numbers are drawn first and never appear in training.
"""
import numpy as np

MAX_DIGITS = 12
TEST_PER_DIGIT_COUNT = 200
VALIDATION_PER_DIGIT_COUNT = 50
ROUND_TEST_SIZE = 600


def words(number, lang):
    try:
        from num2words import num2words
    except ImportError as error:
        raise FileNotFoundError("the number data needs the package `num2words`: pip install 'attention-zoo[train]'") from error
    return num2words(int(number), lang=lang)


def held_out_numbers(rng, per_digit_count):
    """Up to `per_digit_count` distinct numbers of each digit count, at most a quarter of those that exist."""
    numbers = []
    for digits in range(1, MAX_DIGITS + 1):
        low, high = 10 ** (digits - 1), 10**digits
        count = min(per_digit_count, (high - low) // 4)
        numbers.extend(int(n) for n in rng.choice(np.arange(low, high) if digits <= 6 else rng.integers(low, high, 4 * count), count, replace=False))
    return numbers


def round_number(rng, digits):
    """A number of `digits` digits whose 3-digit groups are each, equally often, empty, round (one significant
    digit) or any: "seventy-one million", "two thousand and five". Uniform sampling almost never draws these."""
    number = 0
    for position in range(0, digits, 3):
        width = min(3, digits - position)
        kind = rng.integers(3)
        group = 0 if kind == 0 else int(rng.integers(1, 10)) * 10 ** int(rng.integers(width)) if kind == 1 else int(rng.integers(10**width))
        number += group * 10**position
    leading = 10 ** (digits - 1)
    return number if number >= leading else number % leading + int(rng.integers(1, 10)) * leading


def sample_numbers(rng, count, excluded, round_share):
    """`count` numbers not in `excluded` (short ones repeat), the digit count uniform over 1-12; a `round_share`
    of them `round_number`s, the others uniform within their digit count."""
    numbers = []
    while len(numbers) < count:
        digits = int(rng.integers(1, MAX_DIGITS + 1))
        number = round_number(rng, digits) if rng.random() < round_share else int(rng.integers(10 ** (digits - 1), 10**digits))
        if number not in excluded:
            numbers.append(number)
    return numbers


def load_splits(seed=0, train_size=400_000):
    """{"train", "validation", "test", "round_test"} -> (numbers, English texts, French texts).

    The test numbers are uniform within each digit count; `round_test` holds round numbers and empty groups, the
    cases uniform sampling misses. Training numbers are half uniform, half round, and never held out.
    """
    rng = np.random.default_rng(seed)
    test = held_out_numbers(rng, TEST_PER_DIGIT_COUNT)
    validation = [n for n in held_out_numbers(rng, VALIDATION_PER_DIGIT_COUNT) if n not in set(test)]
    round_test = list(dict.fromkeys(sample_numbers(rng, 2 * ROUND_TEST_SIZE, set(test) | set(validation), round_share=1.0)))[:ROUND_TEST_SIZE]
    train = sample_numbers(rng, train_size, set(test) | set(validation) | set(round_test), round_share=0.5) if train_size else []
    splits = {"train": train, "validation": validation, "test": test, "round_test": round_test}
    return {name: (numbers, [words(n, "en") for n in numbers], [words(n, "fr") for n in numbers]) for name, numbers in splits.items()}
