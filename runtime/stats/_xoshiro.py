"""The numba kernels behind :mod:`._kernels` (imported only there: importing this imports numba).

xoshiro256** (Blackman & Vigna; https://prng.di.unimi.it/xoshiro256starstar.c) with the state in
registers, each 64-bit output split into two 32-bit draws mapped onto [0, n) by Lemire's
multiply-shift with exact rejection; and the one-pass AUROC numerators over rows of counts that
:mod:`._ranks` describes. Module-level functions, so that numba's on-disk cache finds them again in
the next process.
"""

from __future__ import annotations

import numba
import numpy as np

_U64 = np.uint64
_LOW = np.uint64(0xFFFFFFFF)
_TWO_32 = np.uint64(1 << 32)


@numba.njit(nogil=True, cache=True)
def step(s0, s1, s2, s3):
    """One xoshiro256** output and the next state (the reference code, with registers)."""
    x = s1 * _U64(5)
    result = ((x << _U64(7)) | (x >> _U64(57))) * _U64(9)
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U64(45)) | (s3 >> _U64(19))
    return result, s0, s1, s2, s3


@numba.njit(nogil=True, cache=True)
def sum_kernel(values, draws, state):
    """out[r]: the sum of values[i] over draws[r] uniform indices i; state advanced in place."""
    n = _U64(values.shape[0])
    threshold = _TWO_32 % n  # Lemire's rejection bound, 2**32 mod n
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(draws.shape[0])
    word = _U64(0)
    halves = 0  # 32-bit draws left in `word`
    for r in range(draws.shape[0]):
        total = 0.0
        left = draws[r]
        while left > 0:
            if halves == 0:
                word, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                halves = 2
            halves -= 1
            product = (word & _LOW) * n
            word >>= _U64(32)
            if (product & _LOW) < threshold:
                continue
            total += values[product >> _U64(32)]
            left -= 1
        out[r] = total
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out


@numba.njit(nogil=True, cache=True)
def count_kernel(position, cells, draws, state):
    """out[r, c]: how many of draws[r] uniform indices i have position[i] == c."""
    n = _U64(position.shape[0])
    threshold = _TWO_32 % n
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.zeros((draws.shape[0], cells), dtype=np.int64)
    word = _U64(0)
    halves = 0
    for r in range(draws.shape[0]):
        left = draws[r]
        while left > 0:
            if halves == 0:
                word, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                halves = 2
            halves -= 1
            product = (word & _LOW) * n
            word >>= _U64(32)
            if (product & _LOW) < threshold:
                continue
            out[r, position[product >> _U64(32)]] += 1
            left -= 1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out


# --- ranks ----------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True)
def auroc_kernel(counts, order, positive, group_end):
    """out[r, l]: twice the Mann-Whitney numerator of ranking l over counts row r: the sum over tie
    groups, in ascending score order, of the group's positives x (2 x the negatives below it +
    the negatives in it); positives[r, l]: the ranking's positives in row r. ``positive`` is 0/1
    (int64) so that the pass has no data-dependent branch but the group ends (rare with ties).
    Integer arithmetic: exact while 2 n^2 < 2**63."""
    rows, m = counts.shape
    rankings = order.shape[0]
    out = np.empty((rows, rankings))
    positives = np.empty((rows, rankings), dtype=np.int64)
    for r in range(rows):
        row = counts[r]
        for ranking in range(rankings):
            cells = order[ranking]
            flag = positive[ranking]
            ends = group_end[ranking]
            negatives_below = 0
            twice = 0
            positive_total = 0
            positive_group = 0
            negative_group = 0
            for t in range(m):
                c = row[cells[t]]
                p = c * flag[t]
                positive_group += p
                negative_group += c - p
                if ends[t]:
                    twice += positive_group * (2 * negatives_below + negative_group)
                    negatives_below += negative_group
                    positive_total += positive_group
                    positive_group = 0
                    negative_group = 0
            out[r, ranking] = twice
            positives[r, ranking] = positive_total
    return out, positives
