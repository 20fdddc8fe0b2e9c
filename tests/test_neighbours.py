"""align/neighbours.py: the scaled neighbour search keeps the exact search's shape and answers."""
from __future__ import annotations

import numpy as np

from align import neighbours
from align.documents import nearest_both as nearest_exact


def planted(n: int, noise: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ru = rng.standard_normal((n, 64)).astype(np.float32)
    az = ru + noise * rng.standard_normal((n, 64)).astype(np.float32)
    return (ru / np.linalg.norm(ru, axis=1, keepdims=True), az / np.linalg.norm(az, axis=1, keepdims=True))


def test_small_collections_use_the_exact_search():
    ru, az = planted(300)
    for got, want in zip(neighbours.nearest_both(ru, az, 8), nearest_exact(ru, az, 8)):
        assert np.array_equal(got, want)


def test_date_blocked_search_is_exact_within_the_window():
    ru, az = planted(1500)
    rng = np.random.default_rng(1)
    ru_days = rng.integers(0, 60, len(ru))
    az_days = ru_days + rng.integers(0, 2, len(ru))
    ru_idx, ru_sim, az_idx, az_sim = neighbours.nearest_both(ru, az, 8, ru_days=ru_days.tolist(),
                                                             az_days=az_days.tolist(), exact_limit=0, window=3)
    assert ru_idx.shape == (1500, 8) and az_idx.shape == (1500, 8)
    assert (ru_idx[:, 0] == np.arange(1500)).all() and (az_idx[:, 0] == np.arange(1500)).all()
    assert (np.abs(az_days[ru_idx] - ru_days[:, None]) <= 3).all()  # nothing outside the window
    # the same as an exact search restricted to the window
    i = 7
    allowed = np.flatnonzero(np.abs(az_days - ru_days[i]) <= 3)
    best = allowed[np.argsort(-(az[allowed] @ ru[i]), kind="stable")[:8]]
    assert set(ru_idx[i]) == set(best)
    assert np.all(np.diff(ru_sim, axis=1) <= 1e-6)  # best first


def test_undated_documents_go_through_the_index():
    ru, az = planted(2000, noise=0.3)
    days = [None] * 1000 + list(range(1000))
    ru_idx, ru_sim, az_idx, _ = neighbours.nearest_both(ru, az, 8, ru_days=days, az_days=days, exact_limit=0)
    assert ru_idx.shape == (2000, 8) and (ru_idx >= 0).all() and np.isfinite(ru_sim).all()
    assert (ru_idx == np.arange(2000)[:, None]).any(axis=1).mean() > 0.99
    assert (az_idx == np.arange(2000)[:, None]).any(axis=1).mean() > 0.99
