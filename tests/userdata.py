"""A user's own data for the tests and the benchmarks: not names, more characters."""

import numpy as np


def mixed_words(n: int = 3000) -> list[str]:
    """Product codes, e-mail addresses and city names: 66 or so characters, not names."""
    from minibigram import load_words

    rng = np.random.default_rng(1)
    names = load_words()
    letters = list("ABCDEFGHJKLMNPQRSTUVWXYZ")
    out = []
    for i in range(n):
        a, b = names[rng.integers(len(names))], names[rng.integers(len(names))]
        out.append([f"{rng.choice(letters)}{rng.choice(letters)}-{rng.integers(1000, 9999)}",
                    f"{a}.{b}{rng.integers(1, 99)}@example.org",
                    a.capitalize() + ["", "ville", " City"][i % 3]][i % 3])
    return out
