"""English -> French number words (PyPI `num2words`, cardinals): a translation task of exact, known length.

Numbers of 1 to 12 digits; the held-out numbers are drawn first and never appear in training.
"""
import numpy as np

MAX_DIGITS = 12
TEST_PER_DIGIT_COUNT = 200
VALIDATION_PER_DIGIT_COUNT = 50


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


def sample_training_numbers(rng, count, excluded):
    """`count` numbers, the digit count uniform over 1-12, skipping the held-out ones."""
    numbers = []
    while len(numbers) < count:
        digits = rng.integers(1, MAX_DIGITS + 1, count)
        candidates = rng.integers(10 ** (digits - 1), 10**digits)
        numbers.extend(int(n) for n in candidates if int(n) not in excluded)
    return numbers[:count]


def load_splits(seed=0, train_size=400_000):
    """{"train", "validation", "test"} -> (numbers, English texts, French texts)."""
    rng = np.random.default_rng(seed)
    test = held_out_numbers(rng, TEST_PER_DIGIT_COUNT)
    validation = [n for n in held_out_numbers(rng, VALIDATION_PER_DIGIT_COUNT) if n not in set(test)]
    train = sample_training_numbers(rng, train_size, set(test) | set(validation)) if train_size else []
    return {name: (numbers, [words(n, "en") for n in numbers], [words(n, "fr") for n in numbers]) for name, numbers in (("train", train), ("validation", validation), ("test", test))}
