"""How long a task waits before it tries again: one backoff for the tasks of every app."""

import random


def retry_backoff_seconds(
    *, retries: int, base: float, cap: float, jitter: bool = False, rng: random.Random | None = None
) -> float:
    """Seconds before retry number retries + 1: doubling from base, at most cap.

    With jitter ("equal jitter"), half of the delay is fixed, so even an unlucky draw backs off;
    the other half is random, so that many tasks failing together do not all come back at the same moment.
    """
    delay = min(cap, base * 2**retries)
    if not jitter:
        return delay
    return delay / 2 + (rng or random).uniform(0, delay / 2)
