"""rigorml.runtime.stats, the classical part: corrections, significance tests, effect sizes,
aggregation over seeds and design limits, checked against published worked examples and against
scipy/statsmodels."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from rigorml.runtime.stats import aggregate, corrections, design, effect_sizes, significance

FAST = settings(max_examples=60, deadline=None)

#: Benjamini & Hochberg (1995), section 4.1: 15 p-values from a clinical trial. At level 0.05
#: Bonferroni and Holm reject 3 hypotheses, their step-up procedure 4.
BH_1995 = [0.0201, 0.7590, 0.0001, 0.0278, 0.0004, 0.3240, 0.0019, 0.0298, 0.4262, 0.0095, 0.0344,
           0.5719, 0.0459, 1.0, 0.6528]  # fmt: skip

#: statsmodels' names for the corrections (its default, Holm-Sidak, is none of them).
STATSMODELS_NAMES = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh", "by": "fdr_by"}

#: Lakens (2013), Table 1: ten people rate two movies (the same people rate both).
LAKENS_MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
LAKENS_MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]

#: Agresti, Categorical Data Analysis (2nd ed.), Table 10.1: 1600 people rate the Prime Minister's
#: performance in two surveys a month apart (rows: first survey approve/disapprove; columns: second).
AGRESTI_APPROVAL = [[794, 150], [86, 570]]
TABLES = [AGRESTI_APPROVAL, [[10, 7], [1, 5]], [[0, 3], [9, 0]], [[50, 20], [18, 12]]]

p_values = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=25)
shifts = st.lists(st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 3)), min_size=12, max_size=12)
samples = st.lists(st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3)), min_size=3, max_size=12)


def varied(values: list[float]) -> bool:
    return len(set(values)) > 1


# --- corrections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method, rejected", [("bh", 4), ("holm", 3), ("bonferroni", 3), ("none", 9)])
def test_benjamini_hochberg_1995_example_rejects_what_the_paper_reports(method, rejected):
    decisions = corrections.reject(BH_1995, 0.05, method)
    assert decisions.sum() == rejected
    assert sorted(np.asarray(BH_1995)[decisions]) == sorted(BH_1995)[:rejected]


@pytest.mark.parametrize("method", sorted(STATSMODELS_NAMES))
def test_adjusted_p_values_agree_with_statsmodels_multipletests(method):
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(11)
    families = [BH_1995] + [np.round(rng.uniform(0, 0.2, size), 3) for size in (1, 2, 7, 30)]  # rounded: ties
    for family in families:
        decisions, expected, _, _ = multitest.multipletests(family, alpha=0.05, method=STATSMODELS_NAMES[method])
        np.testing.assert_allclose(corrections.adjust(family, method), expected, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(corrections.reject(family, 0.05, method), decisions)


def test_adjusted_p_values_keep_the_order_of_the_input():
    adjusted = corrections.adjust([0.03, 0.01, 0.02], "holm")
    np.testing.assert_allclose(adjusted, [0.04, 0.03, 0.04])  # 0.01 x 3; max(0.02 x 2, 0.03); max(0.03 x 1, 0.04)


def test_by_is_bh_times_the_harmonic_number():
    bh = corrections.adjust(BH_1995, "bh")
    by = corrections.adjust(BH_1995, "by")
    harmonic = sum(1 / k for k in range(1, 16))
    np.testing.assert_allclose(by, np.minimum(bh * harmonic, 1.0), rtol=1e-14)


@pytest.mark.parametrize("name", ["holm-sidak", "hs", "fdr_bh", "sidak", "auto", ""])
def test_a_correction_must_be_named_among_the_supported_ones(name):
    with pytest.raises(ValueError, match="unknown correction"):
        corrections.adjust([0.01, 0.02], name)


@pytest.mark.parametrize("bad", [[-0.1], [1.5], [float("nan")], [0.2, float("inf")]])
def test_p_values_outside_0_1_are_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrections.adjust(bad, "bh")


def test_an_empty_family_adjusts_to_nothing():
    assert corrections.adjust([], "holm").size == 0


@FAST
@given(p=p_values, method=st.sampled_from(corrections.METHODS))
def test_adjusted_p_values_lie_between_the_raw_p_and_one(p, method):
    adjusted = corrections.adjust(p, method)
    assert np.all(adjusted >= np.asarray(p)) and np.all(adjusted <= 1)


@FAST
@given(p=p_values, method=st.sampled_from(corrections.METHODS))
def test_adjusted_p_values_are_monotone_in_the_raw_ones(p, method):
    adjusted = corrections.adjust(p, method)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0)


@FAST
@given(p=st.floats(0, 1, allow_nan=False), method=st.sampled_from(corrections.METHODS))
def test_a_family_of_one_p_value_is_left_unchanged(p, method):
    assert corrections.adjust([p], method).tolist() == [p]


# --- McNemar --------------------------------------------------------------------------------------


def test_mcnemar_reproduces_agrestis_approval_ratings_example():
    # Agresti reports z = (86 - 150) / sqrt(86 + 150) = -4.17, i.e. chi-square 17.36 on 1 df.
    result = significance.mcnemar_from_table(AGRESTI_APPROVAL, method="chi2")
    assert result.statistic == pytest.approx(17.36, abs=0.005)
    assert result.p_value == pytest.approx(stats.chi2.sf(64**2 / 236, 1))
    assert result.n == 1600 and result.df == 1.0


@pytest.mark.parametrize("table", [*TABLES, [[5, 0], [1, 5]]])
def test_mcnemar_exact_agrees_with_statsmodels(table):
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    expected = contingency.mcnemar(table, exact=True)
    result = significance.mcnemar_from_table(table, method="exact")
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.statistic == table[0][1]  # b: the examples only the treatment gets right


@pytest.mark.parametrize("table", TABLES)
def test_mcnemar_chi2_with_continuity_correction_agrees_with_statsmodels(table):
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    expected = contingency.mcnemar(table, exact=False, correction=True)
    result = significance.mcnemar_from_table(table, method="chi2_corrected")
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_mcnemar_from_correctness_vectors_counts_the_discordant_pairs():
    treatment = [True, True, False, True, False, True, True]
    control = [True, False, False, False, True, True, False]
    table = significance.mcnemar_table(treatment, control)
    assert table.tolist() == [[2, 3], [1, 1]]
    assert significance.mcnemar(treatment, control) == significance.mcnemar_from_table(table)


def test_mcnemar_one_sided_exact_is_the_binomial_tail_in_the_treatments_favour():
    table = [[40, 12], [3, 45]]  # the treatment alone is right 12 times, the control alone 3 times
    greater = significance.mcnemar_from_table(table, method="exact", alternative="greater")
    less = significance.mcnemar_from_table(table, method="exact", alternative="less")
    assert greater.p_value == pytest.approx(stats.binomtest(12, 15, 0.5, alternative="greater").pvalue)
    assert less.p_value == pytest.approx(stats.binomtest(12, 15, 0.5, alternative="less").pvalue)
    assert greater.p_value < 0.05 < less.p_value


def test_mcnemar_one_sided_chi2_is_the_signed_normal_deviate():
    table = [[40, 12], [3, 45]]
    result = significance.mcnemar_from_table(table, method="chi2_corrected", alternative="greater")
    assert result.p_value == pytest.approx(stats.norm.sf((12 - 3 - 1) / math.sqrt(15)))


def test_mcnemar_without_discordant_pairs_gives_p_one():
    for method in significance.MCNEMAR_METHODS:
        assert significance.mcnemar([True, False, True], [True, False, True], method=method).p_value == 1.0


@pytest.mark.parametrize("method", significance.MCNEMAR_METHODS)
def test_swapping_arms_keeps_the_two_sided_mcnemar_p_value(method):
    rng = np.random.default_rng(5)
    treatment, control = rng.random(200) < 0.7, rng.random(200) < 0.6
    forward = significance.mcnemar(treatment, control, method=method)
    backward = significance.mcnemar(control, treatment, method=method)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-12)


def test_mcnemar_refuses_a_table_that_is_not_2x2_counts():
    with pytest.raises(ValueError, match="2x2"):
        significance.mcnemar_from_table([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="2x2"):
        significance.mcnemar_from_table([[1, -2], [3, 4]])


# --- Wilcoxon and t-tests -------------------------------------------------------------------------


@pytest.mark.parametrize("method", significance.WILCOXON_METHODS)
@pytest.mark.parametrize("zero_method", significance.WILCOXON_ZERO_METHODS)
@pytest.mark.parametrize("alternative", significance.ALTERNATIVES)
def test_wilcoxon_p_value_is_scipys_with_the_method_and_zero_handling_named(method, zero_method, alternative):
    treatment = [0.81, 0.84, 0.80, 0.86, 0.83, 0.85, 0.79, 0.88]
    control = [0.79, 0.80, 0.80, 0.82, 0.78, 0.86, 0.80, 0.81]  # one zero difference, one tie
    result = significance.wilcoxon(treatment, control, method=method, zero_method=zero_method, alternative=alternative)
    expected = stats.wilcoxon(treatment, control, method=method, zero_method=zero_method, alternative=alternative)
    assert result.p_value == expected.pvalue
    assert method in result.method and f"zero_method={zero_method}" in result.method


def test_wilcoxon_statistic_is_the_rank_sum_of_positive_differences_in_every_direction():
    treatment, control = [3.0, 5.0, 1.0, 8.0, 6.0], [1.0, 2.0, 2.5, 4.0, 7.0]  # differences 2, 3, -1.5, 4, -1
    for alternative in significance.ALTERNATIVES:
        result = significance.wilcoxon(treatment, control, alternative=alternative)
        assert result.statistic == 3 + 4 + 5  # the ranks of 2, 3 and 4


def test_wilcoxon_of_lakens_ratings_drops_the_two_zero_differences():
    result = significance.wilcoxon(LAKENS_MOVIE_1, LAKENS_MOVIE_2, method="exact", zero_method="wilcox")
    assert result.p_value == pytest.approx(2 / 2**8)  # 8 nonzero differences, all positive
    assert result.n == 10


def test_wilcoxon_with_no_nonzero_difference_gives_p_one():
    assert significance.wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], method="asymptotic").p_value == 1.0


def test_paired_t_test_reproduces_lakens_within_subjects_example():
    result = significance.paired_t_test(LAKENS_MOVIE_1, LAKENS_MOVIE_2)
    assert round(result.statistic, 2) == 4.74 and result.df == 9 and round(result.p_value, 3) == 0.001


@pytest.mark.parametrize("alternative", significance.ALTERNATIVES)
def test_paired_t_test_agrees_with_scipy_ttest_rel(alternative):
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83], [0.79, 0.80, 0.81, 0.82, 0.78]
    expected = stats.ttest_rel(treatment, control, alternative=alternative)
    result = significance.paired_t_test(treatment, control, alternative=alternative)
    assert (result.statistic, result.p_value, result.n) == (expected.statistic, expected.pvalue, 5)


@pytest.mark.parametrize("alternative", significance.ALTERNATIVES)
def test_welch_t_test_agrees_with_scipy_and_the_welch_satterthwaite_df(alternative):
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83, 0.90], [0.79, 0.80, 0.81, 0.82]
    expected = stats.ttest_ind(treatment, control, equal_var=False, alternative=alternative)
    result = significance.welch_t_test(treatment, control, alternative=alternative)
    assert (result.statistic, result.p_value, result.n) == (expected.statistic, expected.pvalue, 10)
    a, b = np.var(treatment, ddof=1) / 6, np.var(control, ddof=1) / 4
    assert result.df == pytest.approx((a + b) ** 2 / (a**2 / 5 + b**2 / 3))


def test_welch_t_test_reproduces_lakens_between_subjects_t():
    # Lakens reports t(18) = 2.52, p = 0.022 for the two movies as independent groups; equal sizes and
    # close sds put Welch's df just under 18.
    result = significance.welch_t_test(LAKENS_MOVIE_1, LAKENS_MOVIE_2)
    assert round(result.statistic, 2) == 2.52 and round(result.p_value, 3) == 0.022 and 17.5 < result.df < 18


@pytest.mark.parametrize("test", [significance.paired_t_test, significance.welch_t_test, significance.wilcoxon])
def test_greater_means_the_treatment_is_above_the_control(test):
    treatment, control = [0.9, 0.92, 0.91, 0.95, 0.93, 0.94], [0.8, 0.83, 0.82, 0.81, 0.84, 0.80]
    assert test(treatment, control, alternative="greater").p_value < 0.05
    assert test(treatment, control, alternative="less").p_value > 0.95


@FAST
@given(treatment=samples, shift=shifts)
def test_swapping_arms_flips_t_and_keeps_the_two_sided_p_value(treatment, shift):
    control = [t + s for t, s in zip(treatment, shift)]
    differences = np.subtract(treatment, control)
    if varied(list(differences)):
        forward = significance.paired_t_test(treatment, control)
        backward = significance.paired_t_test(control, treatment)
        assert backward.statistic == pytest.approx(-forward.statistic, rel=1e-9)
        assert backward.p_value == pytest.approx(forward.p_value, rel=1e-9)
    if varied(treatment) or varied(control):
        forward = significance.welch_t_test(treatment, control)
        backward = significance.welch_t_test(control, treatment)
        assert backward.statistic == pytest.approx(-forward.statistic, rel=1e-9)
        assert backward.p_value == pytest.approx(forward.p_value, rel=1e-9)


def test_t_tests_refuse_values_that_do_not_vary():
    with pytest.raises(ValueError, match="do not vary"):
        significance.paired_t_test([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match="varies"):
        significance.welch_t_test([1.0, 1.0], [2.0, 2.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: significance.paired_t_test([1, 2], [1, 2, 3]),
        lambda: significance.paired_t_test([1, 2, 3], [3, 2, 1], alternative="larger"),
        lambda: significance.wilcoxon([1, 2, 3], [3, 2, 1], method="auto"),
        lambda: significance.wilcoxon([1, 2, 3], [3, 2, 1], zero_method="drop"),
        lambda: significance.mcnemar([True], [False], method="midp"),
        lambda: significance.welch_t_test([1.0, float("nan")], [1.0, 2.0]),
    ],
)
def test_bad_inputs_and_unnamed_choices_are_refused(call):
    with pytest.raises(ValueError):
        call()


# --- effect sizes ---------------------------------------------------------------------------------


def test_lakens_2013_worked_example_effect_sizes():
    # Lakens (2013), Table 1: d_z = 1.50, d_av = 1.13 (within subjects); d_s = 1.13, g_s = 1.08.
    assert round(effect_sizes.cohens_dz(LAKENS_MOVIE_1, LAKENS_MOVIE_2).estimate, 2) == 1.50
    assert round(effect_sizes.cohens_dav(LAKENS_MOVIE_1, LAKENS_MOVIE_2).estimate, 2) == 1.13
    assert round(effect_sizes.cohens_d(LAKENS_MOVIE_1, LAKENS_MOVIE_2).estimate, 2) == 1.13
    assert round(effect_sizes.hedges_g(LAKENS_MOVIE_1, LAKENS_MOVIE_2).estimate, 2) == 1.08


def test_hedges_correction_is_the_gamma_ratio_and_close_to_its_approximation():
    assert effect_sizes.hedges_correction(2) == pytest.approx(1 / math.sqrt(math.pi))  # Gamma(1) / Gamma(1/2)
    assert effect_sizes.hedges_correction(18, approximate=True) == pytest.approx(1 - 3 / 71)
    for df in (4, 10, 18, 100, 10_000):
        exact, approximate = effect_sizes.hedges_correction(df), effect_sizes.hedges_correction(df, approximate=True)
        assert exact < 1 and abs(approximate / exact - 1) < (3e-3 if df < 10 else 4e-4)


def test_dz_interval_touches_zero_exactly_at_the_paired_t_test_p_value():
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83], [0.79, 0.80, 0.81, 0.82, 0.78]
    p = stats.ttest_rel(treatment, control).pvalue
    low, high = effect_sizes.cohens_dz(treatment, control, confidence=1 - p).ci
    assert low == pytest.approx(0, abs=1e-8) and high > 0


def test_dav_interval_excludes_zero_exactly_when_the_paired_t_test_rejects():
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83], [0.79, 0.80, 0.81, 0.82, 0.78]
    p = stats.ttest_rel(treatment, control).pvalue
    low, _ = effect_sizes.cohens_dav(treatment, control, confidence=1 - p).ci
    assert low == pytest.approx(0, abs=1e-8)


def test_pooled_d_interval_touches_zero_exactly_at_the_students_t_test_p_value():
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83, 0.85], [0.79, 0.80, 0.81, 0.82, 0.78]
    p = stats.ttest_ind(treatment, control, equal_var=True).pvalue
    low, high = effect_sizes.cohens_d(treatment, control, confidence=1 - p).ci
    assert low == pytest.approx(0, abs=1e-8) and high > 0


def test_pooled_d_interval_approaches_the_large_sample_formula():
    rng = np.random.default_rng(2)
    treatment, control = rng.normal(0.5, 1, 3000), rng.normal(0, 1, 2000)
    d = effect_sizes.cohens_d(treatment, control)
    # Hedges & Olkin's large-sample variance of d: (n_t + n_c) / (n_t n_c) + d^2 / (2 (n_t + n_c)).
    se = math.sqrt(5000 / (3000 * 2000) + d.estimate**2 / (2 * 5000))
    z = stats.norm.ppf(0.975)
    assert d.ci == pytest.approx((d.estimate - z * se, d.estimate + z * se), abs=2e-3)


def test_hedges_g_interval_is_the_pooled_d_interval_times_j():
    d = effect_sizes.cohens_d(LAKENS_MOVIE_1, LAKENS_MOVIE_2, 0.9)
    g = effect_sizes.hedges_g(LAKENS_MOVIE_1, LAKENS_MOVIE_2, 0.9)
    j = effect_sizes.hedges_correction(18)
    assert g.estimate == pytest.approx(j * d.estimate) and g.ci == pytest.approx((j * d.ci[0], j * d.ci[1]))


def test_noncentral_t_interval_puts_the_observed_t_at_the_tail_quantiles():
    low, high = effect_sizes.noncentral_t_interval(2.5, 9, 0.95)
    assert stats.nct.cdf(2.5, 9, low) == pytest.approx(0.975, abs=1e-10)
    assert stats.nct.cdf(2.5, 9, high) == pytest.approx(0.025, abs=1e-10)


@FAST
@given(treatment=samples, shift=shifts)
def test_swapping_arms_flips_every_effect_size_and_mirrors_its_interval(treatment, shift):
    control = [t + s for t, s in zip(treatment, shift)]
    assume(varied(list(np.subtract(treatment, control))) and (varied(treatment) or varied(control)))
    for name in effect_sizes.EFFECT_SIZES:
        forward = effect_sizes.effect_size(name, treatment, control)
        backward = effect_sizes.effect_size(name, control, treatment)
        assert backward.estimate == pytest.approx(-forward.estimate, rel=1e-9, abs=1e-12)
        assert backward.ci == pytest.approx((-forward.ci[1], -forward.ci[0]), rel=1e-6, abs=1e-8)


def test_effect_sizes_are_looked_up_by_the_names_the_spec_uses():
    from rigorml.schemas.evaluation import EffectSize

    assert set(effect_sizes.EFFECT_SIZES) == set(EffectSize.__args__)
    with pytest.raises(ValueError, match="unknown effect size"):
        effect_sizes.effect_size("glass_delta", [1, 2], [2, 3])


def test_dz_is_undefined_when_the_differences_do_not_vary():
    with pytest.raises(ValueError, match="do not vary"):
        effect_sizes.cohens_dz([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert effect_sizes.cohens_dav([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]).ci is None


# --- aggregation over seeds -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 8, 12, 20])
def test_iqm_is_scipys_trim_mean_when_n_is_divisible_by_4(n):
    values = np.random.default_rng(n).normal(size=n)
    assert aggregate.interquartile_mean(values) == pytest.approx(stats.trim_mean(values, 0.25), rel=1e-12)


def test_iqm_weights_the_values_at_the_quartiles_fractionally():
    # n = 5: the middle half is [1.25, 3.75], so the 2nd and 4th values count 3/4, the 3rd fully.
    assert aggregate.interquartile_mean([10.0, 1.0, 2.0, 3.0, 7.0]) == pytest.approx((0.75 * 2 + 3 + 0.75 * 7) / 2.5)
    # The textbook example: 9 values, 2.25 cut from each end.
    assert aggregate.interquartile_mean([1, 3, 5, 7, 9, 11, 13, 15, 17]) == pytest.approx(9)


def test_iqm_of_one_or_two_values_is_their_mean():
    assert aggregate.interquartile_mean([0.7]) == 0.7
    assert aggregate.interquartile_mean([0.2, 0.6]) == pytest.approx(0.4)


def test_seed_summary_agrees_with_numpy_and_scipy():
    values = [0.81, 0.84, 0.80, 0.86, 0.83, 0.79]
    summary = aggregate.summarise(values, confidence=0.9)
    assert summary.n == 6 and summary.mean == pytest.approx(np.mean(values))
    assert summary.sd == pytest.approx(np.std(values, ddof=1))
    assert summary.ci == pytest.approx(stats.t.interval(0.9, 5, loc=np.mean(values), scale=stats.sem(values)))
    assert summary.median == pytest.approx(np.median(values))


def test_one_seed_has_no_sd_and_no_interval():
    summary = aggregate.summarise([0.8]).as_dict()
    assert summary == {"n": 1, "mean": 0.8, "sd": None, "ci": None, "median": 0.8, "iqm": 0.8}


def test_summaries_refuse_no_values_and_non_finite_values():
    with pytest.raises(ValueError, match="no values"):
        aggregate.summarise([])
    with pytest.raises(ValueError, match="finite"):
        aggregate.summarise([0.5, float("nan")])


# --- design ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 5, 10, 30])
@pytest.mark.parametrize("alternative, name", [("two-sided", "two-sided"), ("greater", "larger"), ("less", "smaller")])
def test_minimum_detectable_effect_agrees_with_statsmodels_ttest_power(n, alternative, name):
    power = pytest.importorskip("statsmodels.stats.power")
    expected = power.TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8, alternative=name)
    assert design.minimum_detectable_effect(n, 0.05, 0.8, alternative) == pytest.approx(abs(expected), rel=1e-5)


def test_minimum_detectable_effect_shrinks_with_more_seeds():
    effects = [design.minimum_detectable_effect(n) for n in (3, 5, 10, 20)]
    assert effects == sorted(effects, reverse=True)


def test_minimum_detectable_effect_refuses_impossible_designs():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        design.minimum_detectable_effect(1)
    with pytest.raises(ValueError, match="power"):
        design.minimum_detectable_effect(5, alpha=0.05, power=0.05)


@pytest.mark.parametrize("n", [3, 5, 6, 8])
def test_smallest_paired_p_is_what_exact_wilcoxon_and_sign_flips_give_at_best(n):
    differences = np.arange(1.0, n + 1)  # every difference positive: the most extreme outcome
    assert design.smallest_p(n, True, "two-sided") == Fraction(2, 2**n)
    assert stats.wilcoxon(differences, method="exact").pvalue == pytest.approx(2 / 2**n)
    one_sided = stats.wilcoxon(differences, method="exact", alternative="greater").pvalue
    assert one_sided == pytest.approx(float(design.smallest_p(n, True, "greater")))
    flips = stats.permutation_test((differences,), np.mean, permutation_type="samples", n_resamples=np.inf)
    assert flips.pvalue == pytest.approx(float(design.smallest_p(n, True, "two-sided")))


@pytest.mark.parametrize("n", [3, 5, 6])
def test_smallest_independent_p_is_what_exact_mann_whitney_gives_at_best(n):
    treatment, control = np.arange(n, 2.0 * n), np.arange(0.0, n)  # complete separation
    assert design.smallest_p(n, False, "two-sided") == Fraction(2, math.comb(2 * n, n))
    assert stats.mannwhitneyu(treatment, control, method="exact").pvalue == pytest.approx(2 / math.comb(2 * n, n))
    one_sided = stats.mannwhitneyu(treatment, control, method="exact", alternative="greater").pvalue
    assert one_sided == pytest.approx(float(design.smallest_p(n, False, "greater")))


def test_smallest_p_formula_reads_like_the_arithmetic():
    assert design.smallest_p_formula(5, True, "two-sided") == "2/2^5"
    assert design.smallest_p_formula(5, False, "less") == "1/C(10,5)"
    assert design.smallest_p(1, True, "two-sided") == 1  # capped


def test_the_linter_uses_the_design_modules_smallest_p():
    from rigorml.rules.statistics import alpha_unreachable

    assert alpha_unreachable.smallest_p is design.smallest_p
    assert alpha_unreachable.smallest_p_formula is design.smallest_p_formula


def test_importing_design_loads_neither_numpy_nor_scipy():
    program = (
        "import sys, json\nimport rigorml.runtime.stats.design\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'fractions'))))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []
