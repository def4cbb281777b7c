"""``rigorml lr-find``: the learning-rate range test on one arm of a spec, before any serious training.

The spec is checked as ``rigorml compile`` checks it (compose with overrides, validate, every error
located), resolved, and one arm at one replicate seed is set up exactly as its training run would be
(``runtime.train.prepare_training``). ``runtime.lr_find`` runs the test; this module prints the
suggestion and writes ``lr_find.json`` and ``lr_find.png``. Lint findings do not stop it: the test
trains nothing that is kept, and a learning rate is often what the spec still lacks.
"""

from __future__ import annotations

import json
import math
import os
import sys

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, _validated_spec

#: The names of what the command writes in its output directory.
LR_FIND_PLOT, LR_FIND_JSON = "lr_find.png", "lr_find.json"


def cmd_lr_find(args) -> int:
    """Validate and resolve the spec, run the range test on one arm and replicate seed, write the
    curve (PNG) and the result (JSON), print the suggested ``training.optimizer.lr``.

    Exit codes: 0 a learning rate was suggested; 1 the spec has errors, or the curve never fell
    steeply enough to suggest one (the output is still written); 2 bad arguments (range, steps, arm,
    seed), missing dependencies, or data/model that cannot be built.
    """
    problem = _check_arguments(args)
    if problem:
        print(f"rigorml lr-find: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE

    from ..schemas.spec import Spec
    from .resolve import resolve_spec

    composed, _, code = _validated_spec(args)
    if code is not None:
        return code
    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    resolved = json.loads(json.dumps(resolved))  # exactly what a compiled project reads back

    arm = args.arm or _baseline_arm(resolved)
    replicate = args.seed if args.seed is not None else resolved["seeds"]["replicates"][0]
    try:
        import matplotlib  # noqa: F401  (the plot needs it; it comes with the `run` extra)
        import torch  # noqa: F401
    except ImportError as error:
        print(f"rigorml lr-find: needs {error.name}: pip install 'rigorml[run]'", file=sys.stderr)
        return EXIT_UNUSABLE
    from ..runtime.config import arm_config
    from ..runtime.lr_find import lr_range_test, save_plot
    from ..runtime.train import prepare_training

    try:
        config = arm_config(resolved, arm)
    except ValueError as error:
        print(f"rigorml lr-find: --arm: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    base_dir = os.path.dirname(os.path.abspath(args.spec))  # relative data paths, module:function sources
    try:
        setup = prepare_training(config, replicate, base_dir)
    except (ValueError, TypeError, ImportError, AttributeError, FileNotFoundError) as error:
        print(f"rigorml lr-find: cannot set up arm {arm!r} at seed {replicate}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE

    print(
        f"LR range test: arm {arm}, seed {replicate}, lr {args.start:g} -> {args.end:g} over {args.steps} steps "
        f"on {setup.device}",
        file=sys.stderr,
    )
    result = lr_range_test(setup, start_lr=args.start, end_lr=args.end, num_steps=args.steps)
    result.context = {
        "spec": args.spec,
        "overrides": list(args.overrides),
        "experiment": resolved["experiment"]["name"],
        "arm": arm,
        "replicate": replicate,
        "optimizer": config["training"]["optimizer"]["name"],
        "spec_lr": config["training"]["optimizer"]["lr"],
    }
    out = args.output or os.path.join("runs", _experiment_dir(args.spec), "lr-find")
    try:
        plot, written = save_plot(result, os.path.join(out, LR_FIND_PLOT))
        umask = os.umask(0)  # read it: the runtime writes through private temporary files
        os.umask(umask)
        for path in (plot, written):
            os.chmod(path, 0o666 & ~umask)
    except OSError as error:
        print(f"rigorml lr-find: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_UNUSABLE

    what = {"diverged": "diverged", "non_finite": "became NaN or infinite"}.get(result.stop_reason)
    stopped = f"; the loss {what} at lr {result.lrs[-1]:.2g}" if what else ""
    print(f"ran {result.steps} of {args.steps} steps in {result.seconds:.1f} s{stopped}; wrote {plot} and {written}")
    if result.suggested_lr is None:
        print(f"no suggestion: {result.note}")
        return EXIT_FINDINGS
    suggested = float(f"{result.suggested_lr:.2g}")
    print(
        f"suggested learning rate: {suggested:g} -- where the smoothed loss falls fastest against log(lr) "
        f"(steepest descent); the minimum loss is at {result.min_loss_lr:.2g}, where training is about to diverge "
        f"(a tenth of it: {result.min_loss_lr_tenth:.2g})"
    )
    print(f"in the spec:  training.optimizer.lr: {suggested:g}")
    low, high = _sweep_range(result)
    print(
        "this is a starting point, not a tuned value: sweep training.optimizer.lr log-uniform around it, "
        f"e.g. low: {low:.2g}, high: {high:.2g}"
    )
    return EXIT_OK


def _check_arguments(args) -> str | None:
    for name in ("start", "end"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            return f"--{name} must be a positive learning rate, not {value:g}"
    if args.start >= args.end:
        return f"--start ({args.start:g}) must be below --end ({args.end:g})"
    if args.steps < 10:
        return f"--steps must be at least 10 (the first and last few points are left out of the search), not {args.steps}"
    if args.seed is not None and args.seed < 0:
        return f"--seed must be a replicate seed >= 0, not {args.seed}"
    return None


def _baseline_arm(resolved: dict) -> str:
    """The arm a learning rate is found for by default: the evaluation's baseline, else the variant
    whose role is baseline, else the first variant, else the spec as written (``base``)."""
    variants = resolved.get("variants") or {}
    declared = (resolved.get("evaluation") or {}).get("baseline")
    if declared in variants:
        return declared
    for name, variant in variants.items():
        if (variant or {}).get("role") == "baseline":
            return name
    return next(iter(variants), "base")


def _experiment_dir(spec: str) -> str:
    from .project import _experiment_name  # the name `rigorml run` gives its run directory

    return _experiment_name(spec) or "experiment"


def _sweep_range(result) -> tuple[float, float]:
    """A log-uniform sweep range around the suggestion: a decade below it up to the minimum-loss
    learning rate (at most a decade and a half above the suggestion, at least half a decade)."""
    low = result.suggested_lr / 10
    high = min(max(result.min_loss_lr, result.suggested_lr * 10**0.5), result.suggested_lr * 10**1.5)
    return low, high
