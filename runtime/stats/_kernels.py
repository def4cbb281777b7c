"""Compiled kernels of the CPU bootstrap (numba): draw uniform example indices and sum, or count,
in one pass, without materialising the (resamples, n) index matrix numpy needs.

A resample of n examples costs n random indices; numpy draws them into an array, gathers the
per-example values, then sums: three passes over 8-byte elements. These kernels draw each index
from a xoshiro256** generator held in registers (Blackman & Vigna 2021, "Scrambled linear
pseudorandom number generators", ACM TOMS 47(4); the reference code is public domain at
https://prng.di.unimi.it/xoshiro256starstar.c), map it to [0, n) with Lemire's multiply-shift and its
exact rejection step (Lemire 2019, "Fast random integer generation in an interval", ACM TOMACS
29(1)), and add the example's value (or count its cell) straight away. Each 64-bit output gives
two 32-bit draws, so n < 2**32.

The indices are exactly uniform and independent (up to the generator's quality), so the resamples
have exactly the plain bootstrap's distribution; they are not numpy's numbers. The generator's
state comes from a :class:`numpy.random.SeedSequence`, so results depend on the seed only.
``tests/test_stats_resampling.py`` checks both kernels draw for draw against a plain-Python
transcription of the same two algorithms, and checks the counts' distribution.

:func:`auroc_numerators` is the AUROC fast path's pass over rows of counts (:mod:`._ranks`): no
random numbers, one pass per resample and ranking, no temporaries.

numba is imported when the kernels are first used; :func:`available` says whether it can be, and
the bootstrap falls back to numpy when it cannot.
"""

from __future__ import annotations

import numpy as np

#: Largest n the kernels take (a 32-bit draw maps onto [0, n)).
MAX_EXAMPLES = (1 << 32) - 1


def available() -> bool:
    """Whether numba imports here (it refuses numpy releases newer than it knows, for one)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def generator_state(seed_sequence: np.random.SeedSequence) -> np.ndarray:
    """The 4-word xoshiro256** state for ``seed_sequence``: words 4..7 of its state (PCG64, which
    numpy seeds from the same sequence, takes words 0..3), never all zero."""
    state = seed_sequence.generate_state(8, np.uint64)[4:].copy()
    if not state.any():  # the one state xoshiro cannot leave; probability 2**-256
        state[0] = 1
    return state


def sum_draws(values: np.ndarray, draws: np.ndarray, state: np.ndarray) -> np.ndarray:
    """``out[r]`` = the sum of ``values[i]`` over ``draws[r]`` indices i uniform on
    [0, len(values)); float64 (rows,). ``state`` (4 uint64) is advanced in place."""
    return _compiled()[0](np.ascontiguousarray(values, dtype=np.float64), _draw_counts(draws), state)


def count_draws(position: np.ndarray, cells: int, draws: np.ndarray, state: np.ndarray) -> np.ndarray:
    """``out[r, c]`` = how many of ``draws[r]`` indices i uniform on [0, len(position)) have
    ``position[i] == c``; int64 (rows, cells). ``state`` (4 uint64) is advanced in place."""
    position = np.ascontiguousarray(position, dtype=np.int64)
    return _compiled()[1](position, int(cells), _draw_counts(draws), state)


def auroc_numerators(counts: np.ndarray, order: np.ndarray, positive: np.ndarray, group_end: np.ndarray):
    """Twice the Mann-Whitney numerator of every ranking for every row of ``counts`` ((rows, m),
    examples per cell), in one pass per row and ranking: ``(float64 (rows, L), positives int64
    (rows, L))``. ``order``, ``positive``, ``group_end`` ((L, m)): each ranking's cells sorted by
    score, whether each sorted cell is positive, whether a tie group ends there (:mod:`._ranks`)."""
    from . import _xoshiro

    return _xoshiro.auroc_kernel(
        np.ascontiguousarray(counts, dtype=np.int64),
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(positive, dtype=np.int64),
        np.ascontiguousarray(group_end, dtype=np.bool_),
    )


def _draw_counts(draws: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(draws, dtype=np.int64)


def _compiled() -> tuple:
    """The two kernels (numba compiles them on first use and caches the machine code on disk)."""
    from . import _xoshiro

    return _xoshiro.sum_kernel, _xoshiro.count_kernel
