"""The numba kernels of the CPU bootstrap (rigorml.runtime.stats._kernels): xoshiro256** and
Lemire's bounded draws, checked against published output and a plain-Python transcription, draw
for draw; the counts' distribution; and how the bootstrap picks (or falls back from) them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rigorml.runtime.stats import _kernels
from rigorml.runtime.stats import bootstrap as bootstrap_module
from rigorml.runtime.stats.bootstrap import paired_bootstrap

pytest.importorskip("numba")

MASK64 = (1 << 64) - 1

#: The first outputs of xoshiro256** from the state (1, 2, 3, 4), as the rand_xoshiro crate's
#: test suite lists them (computed there from the reference C code).
PUBLISHED = [
    11520,
    0,
    1509978240,
    1215971899390074240,
    1216172134540287360,
    607988272756665600,
    16172922978634559625,
    8476171486693032832,
    10595114339597558777,
    2904607092377533576,
]


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


def _reference_outputs(state: list[int]):
    """xoshiro256** in plain Python (https://prng.di.unimi.it/xoshiro256starstar.c)."""
    s0, s1, s2, s3 = state
    while True:
        yield (_rotl((s1 * 5) & MASK64, 7) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)


def _reference_indices(state: list[int], n: int, stats_out: dict):
    """Uniform indices on [0, n): each output's low then high 32 bits, Lemire's multiply-shift,
    rejecting when the low half of the product is below 2**32 mod n."""
    threshold = (1 << 32) % n
    stats_out["rejected"] = 0
    for word in _reference_outputs(state):
        for half in (word & 0xFFFFFFFF, word >> 32):
            product = half * n
            if (product & 0xFFFFFFFF) < threshold:
                stats_out["rejected"] += 1
                continue
            yield product >> 32


def test_generator_reproduces_the_published_xoshiro256starstar_outputs():
    from rigorml.runtime.stats import _xoshiro

    reference = _reference_outputs([1, 2, 3, 4])
    assert [next(reference) for _ in PUBLISHED] == PUBLISHED
    s = tuple(np.uint64(v) for v in (1, 2, 3, 4))
    compiled = []
    for _ in PUBLISHED:
        word, *rest = _xoshiro.step(*s)
        s = tuple(np.uint64(v) for v in rest)  # Python ints below 2**63 would be typed int64
        compiled.append(int(word))
    assert compiled == PUBLISHED


@pytest.mark.parametrize("n", [2, 7, 10_000, (1 << 20) + 1])
def test_sum_kernel_draws_exactly_the_reference_indices(n):
    # n = 2**20 + 1 rejects about 1 draw in 4,000: the rejection step is exercised.
    values = np.random.default_rng(n).normal(size=n)
    draws = np.array([3, 0, 50_000, 1, 49_999])
    state = _kernels.generator_state(np.random.SeedSequence(n))
    seen: dict = {}
    indices = _reference_indices([int(v) for v in state], n, seen)
    expected = [sum(values[next(indices)] for _ in range(k)) for k in draws]
    out = _kernels.sum_draws(values, draws, state.copy())
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-9)
    if n == (1 << 20) + 1:
        assert seen["rejected"] > 0


def test_count_kernel_draws_exactly_the_reference_indices_and_advances_the_state():
    n, cells = (1 << 20) + 1, 5
    position = np.random.default_rng(0).integers(0, cells, n)
    draws = np.array([20_000, 7, 30_000])
    state = _kernels.generator_state(np.random.SeedSequence(3))
    seen: dict = {}
    indices = _reference_indices([int(v) for v in state], n, seen)
    expected = np.zeros((len(draws), cells), dtype=np.int64)
    for row, k in enumerate(draws):
        for _ in range(k):
            expected[row, position[next(indices)]] += 1
    before = state.copy()
    np.testing.assert_array_equal(_kernels.count_draws(position, cells, draws, state), expected)
    assert seen["rejected"] > 0
    assert not np.array_equal(state, before)  # a second call continues the stream


def test_counts_are_uniform_and_rows_sum_to_their_draws():
    n, rows = 97, 2_000
    draws = np.random.default_rng(1).integers(0, 300, rows)
    counts = _kernels.count_draws(np.arange(n), n, draws, _kernels.generator_state(np.random.SeedSequence(5)))
    np.testing.assert_array_equal(counts.sum(axis=1), draws)
    totals = counts.sum(axis=0)
    assert stats.chisquare(totals).pvalue > 1e-3
    # Multinomial(k, 1/n) per row: var(count) = k (1/n)(1 - 1/n); pooled over rows of equal k.
    full = _kernels.count_draws(np.arange(n), n, np.full(5_000, n), _kernels.generator_state(np.random.SeedSequence(6)))
    assert full.var(axis=0, ddof=1).mean() == pytest.approx(1 - 1 / n, rel=0.03)


def test_states_differ_between_streams_and_are_never_all_zero():
    a, b = np.random.SeedSequence(0).spawn(2)
    sa, sb = _kernels.generator_state(a), _kernels.generator_state(b)
    assert sa.dtype == np.uint64 and sa.shape == (4,)
    assert not np.array_equal(sa, sb) and sa.any() and sb.any()


def test_auto_backend_uses_the_kernels_on_a_cpu_and_numpy_without_numba(monkeypatch):
    t, c = np.linspace(0, 1, 50), np.linspace(0, 0.9, 50)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("auto picks torch on CUDA here")
    assert paired_bootstrap(t, c, resamples=100, seed=0).backend == "numba"
    monkeypatch.setattr(bootstrap_module._kernels, "available", lambda: False)
    assert paired_bootstrap(t, c, resamples=100, seed=0).backend == "numpy"
    with pytest.raises(ValueError, match=r"backend 'numba' needs numba installed \(pip install 'rigorml\[run\]'\)"):
        paired_bootstrap(t, c, resamples=100, seed=0, backend="numba")


def test_available_is_false_when_numba_cannot_be_imported(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # what `import numba` meets when it is absent
    assert _kernels.available() is False


def test_auroc_kernel_gives_the_numpy_mann_whitney_sums_on_any_counts():
    # Tied scores (rounded), several classes, counts with zeros and large values: the kernel's one
    # pass per row and ranking against the cumulative-sum formula of _ranks, exactly (integers).
    from rigorml.runtime.stats._ranks import auroc_scores, rank_cells

    rng = np.random.default_rng(7)
    for classes in (2, 4):
        y = rng.integers(0, classes, 300)
        shape = 300 if classes == 2 else (300, classes)
        labels, columns_t = auroc_scores(y, np.round(rng.normal(size=shape), 1))
        _, columns_c = auroc_scores(y, np.round(rng.normal(size=shape), 0))
        cells = rank_cells(labels, columns_t, columns_c)
        counts = rng.poisson(rng.choice([0.0, 1.0, 50.0], size=len(cells.sizes)), size=(40, len(cells.sizes)))
        twice, positives = _kernels.auroc_numerators(
            counts, cells.order, cells.positive.astype(np.int64), cells.last == np.arange(len(cells.sizes))
        )
        np.testing.assert_array_equal(twice, cells.twice_numerators(counts.astype(np.float64)))
        np.testing.assert_array_equal(positives[:, : cells.n_classes], counts @ cells.class_onehot())
