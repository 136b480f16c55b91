import random

from salesproject.retries import retry_backoff_seconds


def test_the_backoff_doubles_from_its_base_up_to_the_cap():
    assert [retry_backoff_seconds(retries=n, base=2, cap=60) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]


def test_the_jittered_backoff_doubles_up_to_the_cap_with_half_of_it_random():
    rng = random.Random(7)
    countdowns = [retry_backoff_seconds(retries=n, base=2, cap=60, jitter=True, rng=rng) for n in range(8)]

    for retries, countdown in enumerate(countdowns):
        delay = min(60, 2 * 2**retries)
        assert delay / 2 <= countdown <= delay
    assert countdowns[-1] >= 30  # capped at 60, never below half of it
    assert max(countdowns) <= 60
