"""Random seeds: the one ceiling every option and draw uses."""

import random

MAX_SEED = 2**32 - 1  # numpy's and torch's generators both take seeds up to this


def drawn_seed(seed: int | None) -> int:
    """The seed to use: as given, else a fresh draw (reported, so the result can be made again)."""
    return seed if seed is not None else random.randint(0, MAX_SEED)
