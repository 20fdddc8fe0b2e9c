"""The DP core on arrays: bands, banded similarities, hubs, derived bead cosines, the search."""
from __future__ import annotations

import numpy as np
import pytest

from align import dp


def unit_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def noisy_copies(n: int, noise: float = 0.3, seed: int = 0, d: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, d))
    return unit_rows(base + noise * rng.normal(size=(n, d))), unit_rows(base + noise * rng.normal(size=(n, d)))


def inputs_for(ru: np.ndarray, az: np.ndarray, lo=None, hi=None, reach: int = 3) -> dp.Inputs:
    n, m = len(ru), len(az)
    if lo is None:
        lo, hi = dp.full_band(n, m)
    start, width = dp.sim_band(lo, hi, n, m, reach)
    S = dp.banded_similarity(ru, az, start, width)
    ru_hub, az_hub = dp.hubs(S, start, m, 2)
    ones_r, ones_a = np.ones(n), np.ones(m)
    return dp.Inputs(S, start, lo, hi, ones_r, ones_a, dp.block_norms(ru, ones_r, reach),
                     dp.block_norms(az, ones_a, reach), ru_hub, az_hub, ones_r, ones_a, np.zeros(n), np.zeros(m))


def simple_scoring(max_bead: int = 4, skip: float = 0.3) -> dp.Scoring:
    beads = dp.bead_types(max_bead)
    sizes = beads.sum(axis=1).astype(float)
    penalty = np.where(sizes > 2, 0.5, 0.0)  # merges must earn their place
    return dp.Scoring(beads=beads, coef=sizes, penalty=penalty, floor=0.0, scale=1.0, tau=skip, use_hubs=0)


def test_bead_types():
    got = {tuple(b) for b in dp.bead_types(4)}
    assert got == {(1, 1), (1, 2), (2, 1), (1, 3), (2, 2), (3, 1), (1, 0), (0, 1)}
    assert {tuple(b) for b in dp.bead_types(2)} == {(1, 1), (1, 0), (0, 1)}


def test_block_norms_match_direct_sums():
    rng = np.random.default_rng(1)
    v = unit_rows(rng.normal(size=(7, 5)))
    w = rng.uniform(0.5, 2.0, size=7)
    norms = dp.block_norms(v, w, 3)
    for s in range(7):
        for a in range(1, 4):
            if s + a <= 7:
                assert norms[s, a] == pytest.approx(np.linalg.norm((w[s:s + a, None] * v[s:s + a]).sum(0)), rel=1e-5)


def test_banded_similarity_equals_full_product_inside_the_band():
    ru, az = noisy_copies(40)
    lo = np.clip(np.arange(41) - 5, 0, 40)
    hi = np.clip(np.arange(41) + 5, 0, 40)
    start, width = dp.sim_band(lo, hi, 40, 40, 3)
    S = dp.banded_similarity(ru, az, start, width, chunk=7)
    full = ru @ az.T
    for r in range(40):
        for k in range(width):
            c = start[r] + k
            if c < 40:
                assert S[r, k] == pytest.approx(full[r, c], abs=1e-5)
            else:
                assert S[r, k] == dp.OUTSIDE


def test_hubs_are_top_k_means():
    ru, az = noisy_copies(12, noise=1.0)
    x = inputs_for(ru, az)
    full = ru @ az.T
    expected_rows = np.sort(full, axis=1)[:, -2:].mean(axis=1)
    expected_cols = np.sort(full, axis=0)[-2:, :].mean(axis=0)
    np.testing.assert_allclose(x.ru_hub, expected_rows, atol=1e-5)
    np.testing.assert_allclose(x.az_hub, expected_cols, atol=1e-5)


def test_derived_bead_cosine_is_cosine_of_normalised_sums():
    ru, az = noisy_copies(6, noise=1.0, seed=4)
    x = inputs_for(ru, az)
    values = dp.bead_values(x, simple_scoring(), [(1, 3, 2, 3), (0, 1, 0, 2), (2, 3, 3, 6)])
    for (i0, i1, j0, j1), (cos, _, _) in zip([(1, 3, 2, 3), (0, 1, 0, 2), (2, 3, 3, 6)], values):
        u, v = ru[i0:i1].sum(0), az[j0:j1].sum(0)
        assert cos == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v), abs=1e-5)


def test_search_finds_the_diagonal_with_a_deletion():
    ru, az = noisy_copies(30)
    az = np.delete(az, 12, axis=0)
    path = dp.search(inputs_for(ru, az), simple_scoring())
    assert (12, 13, 12, 12) in path
    assert sum(1 for i0, i1, j0, j1 in path if i1 - i0 == 1 and j1 - j0 == 1) == 29


def test_search_covers_both_sides_in_order():
    ru, az = noisy_copies(25, noise=2.0, seed=7)
    path = dp.search(inputs_for(ru, az[:20]), simple_scoring())
    assert path[0][0] == 0 and path[0][2] == 0 and path[-1][1] == 25 and path[-1][3] == 20
    for a, b in zip(path, path[1:]):
        assert a[1] == b[0] and a[3] == b[2]


def test_band_around_contains_path_and_corners():
    rows = np.array([10, 20, 30, 40])
    cols = np.array([12, 18, 35, 41])
    lo, hi = dp.band_around(rows, cols, 50, 50, 3)
    assert lo[0] == 0 and hi[-1] == 50
    assert np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0)
    for r, c in zip(rows, cols):
        assert lo[r] <= c <= hi[r]


def test_banded_search_equals_full_search_when_the_band_holds_the_path():
    ru, az = noisy_copies(200, seed=2)
    az = np.delete(az, [50, 51, 120], axis=0)
    full = dp.search(inputs_for(ru, az), simple_scoring())
    rows, cols = dp.coarse_path(ru, az, 10)
    lo, hi = dp.band_around(rows, cols, 200, 197, 12)
    assert (hi - lo).max() < 100
    banded = dp.search(inputs_for(ru, az, lo, hi), simple_scoring())
    assert banded == full


def test_an_n_n_bead_whose_diagonal_fits_in_length_pays_the_diagonal_penalty():
    """Adjacent 1-1 pairs matching in length pair by pair pay for being merged; crossing lengths do not."""
    from dataclasses import replace

    ru, az = noisy_copies(4, noise=1.0, seed=5)
    x = inputs_for(ru, az)
    x.ru_len = np.array([100.0, 40.0, 100.0, 40.0])
    x.az_len = np.array([100.0, 40.0, 40.0, 100.0])  # az 0-1 match ru 0-1 pairwise; az 2-3 cross ru 2-3
    plain = replace(simple_scoring(), length_weight=1e-9)  # block tables carry lengths either way
    tables_off = dp.bead_values(x, plain, [(0, 2, 0, 2), (2, 4, 2, 4), (0, 1, 0, 1)])
    x._tables = None
    on = replace(plain, diagonal_penalty=2.0, diagonal_level=0.5)
    tables_on = dp.bead_values(x, on, [(0, 2, 0, 2), (2, 4, 2, 4), (0, 1, 0, 1)])
    assert tables_off[0, 2] - tables_on[0, 2] == pytest.approx(2.0 * 0.5, abs=1e-6)  # worst deviation 0
    assert tables_on[1, 2] == pytest.approx(tables_off[1, 2])  # |log(101/41)| ≈ 0.9 > 0.5: no cost
    assert tables_on[2, 2] == pytest.approx(tables_off[2, 2])  # 1-1 beads never pay it


def test_embedded_similarity_holds_block_cosines_at_every_bead_start_in_the_band():
    ru, az = noisy_copies(9, noise=1.0, seed=3)
    lo = np.clip(np.arange(10) - 2, 0, 9)
    hi = np.clip(np.arange(10) + 3, 0, 9)
    ru_blocks = {1: ru, 2: unit_rows(ru[:-1] + ru[1:])}
    az_blocks = {1: az, 2: unit_rows(az[:-1] + az[1:]), 3: unit_rows(az[:-2] + az[1:-1] + az[2:])}
    beads = dp.bead_types(5)
    E = dp.embedded_similarity(ru_blocks, az_blocks, beads, lo, hi, chunk=4)
    for t, (a, b) in enumerate(beads):
        for i0 in range(10):
            for j0 in range(lo[i0], hi[i0] + 1):
                value = E[t, i0, j0 - lo[i0]]
                inside = i0 + a <= 9 and j0 + b <= 9
                if a and b and (a, b) != (1, 1) and a in ru_blocks and b in az_blocks and inside:
                    assert value == pytest.approx(float(ru_blocks[a][i0] @ az_blocks[b][j0]), abs=1e-5)
                else:
                    assert np.isnan(value)  # not embedded: the kernel falls back to the derived cosine


def test_embedded_cosine_replaces_the_derived_one_by_its_weight():
    ru, az = noisy_copies(6, noise=1.0, seed=4)
    x = inputs_for(ru, az)
    beads = dp.bead_types(4)
    x.E = np.full((len(beads), 7, 7), np.nan, dtype=np.float32)
    t = next(k for k, (a, b) in enumerate(beads) if (a, b) == (2, 1))
    x.E[t, 1, 2] = 0.5  # the bead ru[1:3] ↔ az[2:3]
    derived = dp.bead_values(x, simple_scoring(), [(1, 3, 2, 3)])[0, 0]
    mixed = simple_scoring()
    mixed.embedded_weight = 0.25
    got = dp.bead_values(x, mixed, [(1, 3, 2, 3), (0, 1, 0, 1)])
    assert got[0, 0] == pytest.approx(0.75 * derived + 0.25 * 0.5)
    assert got[1, 0] == pytest.approx(float(ru[0] @ az[0]), abs=1e-6)  # 1-1 beads never change


def test_shared_numbers_counts_each_number_once_per_pair_inside_the_band():
    ru = [["1953", "1954", "1954"], [], ["12"]]
    az = [["1954"], ["1953", "1954", "1954"], ["12", "1953"], ["12"]]
    start = np.array([0, 0, 1])
    C = dp.shared_numbers(ru, az, start, width=3)  # row-wise running sums
    assert np.diff(C, axis=1).tolist() == [[1, 3, 1], [0, 0, 0], [0, 1, 1]]  # ru 2 ↔ az 0: outside its band
    assert C[:, 0].tolist() == [0, 0, 0]


def test_numbers_reward_shared_and_cost_one_sided_ones():
    ru, az = noisy_copies(3, noise=0.5, seed=5)
    x = inputs_for(ru, az)
    numbers_ru, numbers_az = [["1955", "8848"], [], []], [["1955"], ["8848"], ["77"]]
    x.N = dp.shared_numbers(numbers_ru, numbers_az, x.start, x.S.shape[1])
    x.ru_numbers = np.array([2.0, 0.0, 0.0])
    x.az_numbers = np.array([1.0, 1.0, 1.0])
    beads = [(0, 1, 0, 1), (0, 1, 0, 2), (0, 1, 0, 3)]
    plain = dp.bead_values(x, simple_scoring(), beads)[:, 2]
    scoring = simple_scoring()
    scoring.number_match, scoring.number_miss = 0.2, 0.1
    with_numbers = dp.bead_values(x, scoring, beads)[:, 2]
    # 1-1: 1955 shared, 8848 one-sided; 1-2: both shared; 1-3: both shared, 77 one-sided
    np.testing.assert_allclose(with_numbers - plain, [0.2 - 0.1, 0.4, 0.4 - 0.1], atol=1e-9)


@pytest.mark.parametrize("numbered", [0, 1])
def test_a_shared_number_decides_between_equal_candidates(numbered):
    """One ru unit equally similar to two az units (1-1 and nulls only): the az unit sharing its
    number becomes its partner, whichever comes first."""
    az = unit_rows(np.eye(4)[:2])
    ru = unit_rows((az[0] + az[1])[None, :])
    x = inputs_for(ru, az, reach=1)
    az_numbers = [[], []]
    az_numbers[numbered] = ["1955"]
    x.N = dp.shared_numbers([["1955"]], az_numbers, x.start, x.S.shape[1])
    x.ru_numbers, x.az_numbers = np.array([1.0]), np.array([len(v) for v in az_numbers], dtype=float)
    scoring = simple_scoring(max_bead=2, skip=0.3)
    scoring.number_match, scoring.number_miss = 0.2, 0.1
    beads = dp.search(x, scoring)
    assert (0, 1, numbered, numbered + 1) in beads
