"""rigorml.runtime.stats: the statistics an evaluation reports, one concept per module.

* ``corrections``: multiple-comparison corrections (Bonferroni, Holm, Benjamini-Hochberg,
  Benjamini-Yekutieli) as adjusted p-values, and the decisions they make.
* ``significance``: classical tests of treatment against control (McNemar, Wilcoxon signed-rank,
  paired and Welch t-tests), each returning a :class:`~.significance.SignificanceResult`.
* ``effect_sizes``: Cohen's d_z, d_av, pooled d and Hedges' g, each with a confidence interval.
* ``aggregate``: summaries of one metric over replicate seeds (mean, sd, t interval, median, IQM).
* ``design``: what a declared design can detect (minimum detectable effect) and the smallest
  p-value an exact seed-level test can give (standard library only: the linter uses it).
* ``bootstrap``, ``permutation``: resampling tests and intervals.

Nothing is imported here, so importing one module (``design`` from the linter) stays cheap.
"""
