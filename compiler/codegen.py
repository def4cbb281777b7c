"""Code generation: a resolved spec -> the files of a runnable project (``{file name: text}``).

The project is ``train.py`` (a thin script over ``rigorml.runtime.train.train_run``),
``evaluate.py`` (one over ``rigorml.runtime.evaluate.evaluate_experiment``),
``config.resolved.json`` (what every run reads), ``config.sha256`` (its hash), ``README.md`` and
``requirements.txt``. The pass returns texts; the CLI writes them. A spec with a ``sweep`` section
also gets ``sweep.py`` (a thin script over ``rigorml.runtime.sweep.run_sweep``): the file set is
:func:`project_files`.

**Safety.** Spec values enter generated code only as literals. Templates never write a value with a
bare ``{{ value }}``: every value goes through a filter made for its destination --

* ``py``: a Python literal (``repr``-based; strings double-quoted, checked to read back equal);
* ``comment``: ``#`` lines; ``doc``: docstring text. Both first make the text one line by escaping
  every character that is not printable (newlines, ``\\r``, ``\\x0b``, ``\\x0c``, ``\\x85``,
  ``\\u2028``, ``\\u2029``, NUL, bidi controls...), so no text can end a comment or start a line a
  reader would take for code; ``doc`` also escapes backslashes and quotes, so no text can end the
  docstring;
* ``md``: Markdown prose with markup characters escaped; ``code``: a Markdown code span; ``sh``:
  a word of a shell command in the README.

The environment's ``finalize`` rejects any other value a template tries to print (only integers and
filter results pass), so a forgotten filter fails loudly instead of writing a raw string into code.
Every generated ``.py`` is parsed and compiled before it is returned.

**Determinism.** The output is a function of the resolved spec's content (what its sha256 names) and
rigorml's version: no timestamps, hostnames or absolute paths. Sections keep the spec model's field
order; mappings whose keys the author chooses (variants, overrides, ``params``, sweep parameters)
are written in sorted key order, so reordering them in the spec, which does not change the hash,
does not change the project either.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import textwrap

from .resolve import canonical_json, spec_hash

#: Longest line the generated Python aims for (the templates keep their own lines within it).
WIDTH = 100

#: The files a compiled project consists of.
PROJECT_FILES = ("README.md", "config.resolved.json", "config.sha256", "requirements.txt", "train.py", "evaluate.py")

#: Written as well when the spec has a ``sweep`` section.
SWEEP_FILE = "sweep.py"

#: A version pip can pin (PEP 440, public and local parts): ``2.3.1``, ``2.4.0rc1``, ``2.3.0+cu121``.
_VERSION = re.compile(
    r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?", re.ASCII | re.IGNORECASE
)

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MARKDOWN_INLINE = set("\\`*_[]<>|~&$")
_MARKDOWN_BLOCK_START = re.compile(r"[-+=#>]|\d+[.)]")


class CodegenError(ValueError):
    """A spec value the compiler cannot write where it must go (a torch version pip cannot pin).

    ``path`` locates the value in the spec (keys and list indices), for a located diagnostic.
    """

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


class GeneratedCodeError(RuntimeError):
    """Generated Python does not parse or compile: a bug in rigorml's templates, never the spec's."""


class TemplateSafetyError(TypeError):
    """A template printed a value without a filter (see the module docstring): a template bug."""


# --- the pass ------------------------------------------------------------------------------------


def generate_project(resolved: dict, *, rigorml_version: str | None = None, spec_dir: str = ".") -> dict[str, str]:
    """Render the project for a resolved spec.

    ``resolved`` is the JSON form ``rigorml resolve --format json`` prints (``resolve_spec``'s
    second value); ``rigorml_version`` pins ``rigorml[run]`` in requirements.txt (unpinned when
    None or a source-tree version); ``spec_dir`` is the spec's folder relative to the project
    folder (``/``-separated), written into train.py only when the spec names files or modules
    relative to itself. Returns ``{file name: text}`` for :func:`project_files`.

    Raises :class:`CodegenError` for a spec value that cannot be written safely (located by its
    ``path``) and :class:`GeneratedCodeError` if a generated ``.py`` does not parse (a rigorml bug).
    """
    config = normalised(resolved)
    digest = spec_hash(config)
    context = _context(config, digest, rigorml_version)
    context["spec_dir"] = spec_dir if uses_spec_dir(config) else None
    # An LLM judge (module:function or command) and its human labels are found from the spec's folder.
    context["has_judge"] = config.get("llm_judge") is not None
    context["judge_dir"] = spec_dir if context["has_judge"] else None
    context["sweep"] = _sweep(config)
    env = _environment()
    files = {
        "README.md": env.get_template("README.md.j2").render(context),
        "config.resolved.json": json.dumps(config, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        "config.sha256": digest + "\n",
        "requirements.txt": env.get_template("requirements.txt.j2").render(context),
        "train.py": env.get_template("train.py.j2").render(context),
        "evaluate.py": env.get_template("evaluate.py.j2").render(context),
    }
    if context["sweep"] is not None:
        files[SWEEP_FILE] = env.get_template("sweep.py.j2").render(context)
    check_python(files)
    return files


def project_files(resolved: dict) -> tuple[str, ...]:
    """The names of the files compiled from ``resolved``: :data:`PROJECT_FILES`, and
    :data:`SWEEP_FILE` when the spec has a ``sweep`` section."""
    return PROJECT_FILES + ((SWEEP_FILE,) if resolved.get("sweep") else ())


def normalised(resolved: dict) -> dict:
    """The resolved spec with author-keyed mappings in sorted key order; model sections keep the
    model's field order. Same content (same sha256) -> same dict, key order included."""
    from ..schemas.spec import Spec

    # canonical_json sorts every mapping; dumping through the model restores the field order of
    # model sections, while free-form mappings keep the sorted order they were given.
    sorted_everywhere = json.loads(canonical_json(resolved))
    out = Spec.model_validate(sorted_everywhere).model_dump(mode="json", by_alias=True)
    if canonical_json(out) != canonical_json(resolved):
        raise GeneratedCodeError("the resolved spec does not survive a round trip through the spec model")
    return out


def check_python(files: dict[str, str]) -> None:
    """Parse and compile every ``.py`` in ``files``; raise :class:`GeneratedCodeError` otherwise."""
    for name, text in files.items():
        if not name.endswith(".py"):
            continue
        try:
            compile(ast.parse(text, filename=name), name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise GeneratedCodeError(f"generated {name} does not compile: {exc}") from exc


# --- what the templates see ----------------------------------------------------------------------


def _context(config: dict, digest: str, rigorml_version: str | None) -> dict:
    experiment, training, environment = config["experiment"], config["training"], config["environment"]
    seeds = tuple(config["seeds"]["replicates"])
    arms = _arms(config["variants"])
    return {
        "experiment": experiment,
        "metrics": config["metrics"],
        "environment": environment,
        "arms": arms,
        "arm_names": tuple(arm["name"] for arm in arms),
        "replicate_seeds": seeds,
        "runs": len(arms) * len(seeds),
        "sha256": digest,
        "notes": _training_notes(training, config["data"]["loader"], environment),
        "resume": training["checkpoint"]["resume"],
        # Requirement lines are built and checked here, then printed as they are.
        "torch_requirement": _torch_requirement(environment.get("torch")),
        "rigorml_requirement": _Safe(_rigorml_requirement(rigorml_version)),
        "evaluation_split": config["evaluation"]["split"],
        "evaluation_plan": _evaluation_plan(config["evaluation"]),
    }


def uses_spec_dir(config: dict) -> bool:
    """Whether a run needs the spec's folder: a data file, or a ``module:function`` to import, in
    the base configuration or in any arm's overrides."""
    sources = [config["data"]["source"], config["model"]["source"]]
    for variant in config["variants"].values():
        for path, value in variant["overrides"].items():
            if path in ("data.source", "model.source"):
                sources.append(value)
            elif path in ("data", "model") and isinstance(value, dict) and "source" in value:
                sources.append(value["source"])
    builtin = all(isinstance(source, str) and source.startswith("builtin:") for source in sources)
    return not builtin or bool(config["metrics"]["custom"])


def _arms(variants: dict) -> list[dict]:
    """Arms in presentation order: baseline-role arms first, then by name (the config's order)."""
    if not variants:
        return [{"name": "base", "role": None, "description": "", "summary": "", "overrides": []}]
    arms = []
    for name, variant in variants.items():
        role, description = variant["role"], variant["description"]
        summary = description if role == "treatment" else role.capitalize() + (f": {description}" if description else "")
        overrides = [
            (path, json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False))
            for path, value in variant["overrides"].items()
        ]
        arms.append(
            {"name": name, "role": role, "description": description, "summary": summary, "overrides": overrides}
        )
    return sorted(arms, key=lambda arm: arm["role"] != "baseline")  # stable: names stay sorted


def _evaluation_plan(evaluation: dict) -> list[str]:
    """The preregistered evaluation in sentences, for evaluate.py's comments: the split, each
    comparison with its declared test, the correction over the family. Sentences carry spec values
    (arm and comparison names): templates pass them through ``comment``."""
    level = f"{evaluation['confidence'] * 100:g}%"
    plan = [f"Split: {evaluation['split']} (evaluation.split); {level} t intervals over the seeds."]
    comparisons = evaluation["comparisons"]
    for comparison in comparisons:
        unpaired = "" if comparison["paired"] else ", unpaired"
        alternative = "" if comparison["alternative"] == "two-sided" else f", {comparison['alternative']}"
        plan.append(
            f"{comparison['name']}: {comparison['treatment']} - {comparison['control']} on "
            f"{comparison['metric']}, declared test {comparison['test']}{unpaired}{alternative}."
        )
    if comparisons:
        plan.append(
            f"Correction: {evaluation['correction']} over the {len(comparisons)} comparison(s) "
            f"({evaluation['family']} family), alpha {_number(evaluation['alpha'])}."
        )
    else:
        plan.append("No comparisons (evaluation.comparisons, evaluation.baseline): arm summaries only.")
    return plan


def _number(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _training_notes(training: dict, loader: dict, environment: dict) -> list[str]:
    """What the spec asks of every run that a reader would not assume; one sentence each.

    Sentences carry spec values (a metric name, a GPU type): templates pass them through
    ``comment`` or ``md`` like any other text.
    """
    notes = []
    if training["deterministic"]:
        notes.append(
            "Deterministic algorithms (training.deterministic): a rerun on the same hardware and "
            "software gives the same numbers, at some cost in speed; the runtime pins the cuBLAS "
            "workspace before CUDA starts."
        )
    else:
        notes.append(
            "training.deterministic is off: GPU kernels may give different numbers on every rerun. "
            "Turn it on for final results."
        )
    if training["device"] != "auto":
        notes.append(f"Runs on {training['device']} (training.device).")
    if training["precision"] != "fp32":
        gpu = environment["gpu"].get("type")
        where = f" (environment.gpu.type: {gpu})" if gpu else ""
        notes.append(
            f"{training['precision']} autocast on CUDA (training.precision): results differ across GPU "
            f"architectures, so compare runs from one GPU type{where}."
        )
    if environment.get("precision_notes"):
        notes.append(f"Precision notes (environment.precision_notes): {environment['precision_notes']}")
    clip = training["grad_clip"]
    if clip:
        norm = {1.0: "L1", 2.0: "L2"}.get(clip["norm_type"], f"p={_number(clip['norm_type'])}")
        notes.append(f"Gradients are clipped to a global {norm} norm of {_number(clip['max_norm'])} (training.grad_clip).")
    steps = training["grad_accumulation_steps"]
    if steps > 1:
        batch = loader["batch_size"]
        notes.append(
            f"Gradient accumulation: {steps} micro-batches of {batch} per optimiser step "
            f"(an effective batch of {steps * batch})."
        )
    if training["max_steps"] is not None:
        limit = f", even before {training['epochs']} epochs" if training["epochs"] is not None else ""
        notes.append(f"Training stops after {training['max_steps']} optimiser steps (training.max_steps){limit}.")
    stopping = training["early_stopping"]
    if stopping:
        better = "lower" if stopping["mode"] == "min" else "higher"
        delta = f" by more than {_number(stopping['min_delta'])}" if stopping["min_delta"] else ""
        best = "; the best checkpoint by it is kept" if training["checkpoint"]["keep_best"] else ""
        notes.append(
            f"Early stopping on {stopping['metric']} ({better} is better): a run stops after "
            f"{stopping['patience']} evaluations without improving{delta}{best}."
        )
    if loader["num_workers"] > 0:
        notes.append(
            f"{loader['num_workers']} DataLoader workers, each seeded by the runtime, so the batches do "
            "not depend on how the OS schedules them."
        )
    if training["checkpoint"]["every_steps"] is not None:
        notes.append(
            f"A checkpoint every {training['checkpoint']['every_steps']} optimiser steps as well, so an "
            "interrupted run resumes mid-epoch and reproduces the uninterrupted one."
        )
    return notes


def _sweep(config: dict) -> dict | None:
    """What sweep.py and the README say about the spec's sweep; None without one.

    The notes and the search-space lines are sentences carrying spec values (metric names,
    parameter paths, categorical values): templates pass them through ``comment`` or ``md``.
    """
    sweep = config["sweep"]
    if sweep is None:
        return None
    objective, sampler, pruner = sweep["objective"], sweep["sampler"], sweep["pruner"]
    return {
        "study_name": sweep["study_name"],
        "n_trials": sweep["n_trials"],
        "seed": config["seeds"]["replicates"][0],
        "objective": objective,
        "objective_note": (
            f"Each trial is scored by {objective['metric']} ({objective['direction']}) on the validation "
            "split alone: the test split stays unseen for the final validation of the chosen configuration."
        ),
        "method_note": _sweep_method_note(sweep["method"], sampler),
        "pruner_note": _sweep_pruner_note(pruner),
        "space": [_sweep_parameter_line(path, parameter) for path, parameter in sweep["parameters"].items()],
    }


def _sweep_method_note(method: str, sampler: dict) -> str:
    seeded = f" The sampler's seed is {sampler['seed']} (sweep.sampler.seed): the same spec samples the same."
    if method in ("tpe", "bayes"):
        alias = "`bayes`, W&B's name, runs Optuna's TPE: " if method == "bayes" else "TPE (sweep.method): "
        joint = ", modelling the parameters jointly (multivariate)" if sampler["multivariate"] else ""
        return (
            f"{alias}{sampler['n_startup_trials']} random trials, then each trial is drawn where a model of "
            f"the finished ones expects good scores{joint}.{seeded}"
        )
    if method == "grid":
        return f"Grid search (sweep.method): every combination of the listed values, once.{seeded}"
    if method == "cmaes":
        return (
            "CMA-ES (sweep.method): an evolution strategy over the continuous parameters, after "
            f"{sampler['n_startup_trials']} random trials; it needs the cmaes package.{seeded}"
        )
    return f"Random search (sweep.method): each trial is drawn independently of the others.{seeded}"


def _sweep_pruner_note(pruner: dict) -> str:
    kind = pruner["type"]
    if kind == "hyperband":
        top = "the longest trial" if pruner["max_resource"] == "auto" else f"{pruner['max_resource']} epochs"
        return (
            f"Hyperband pruning (sweep.pruner): trials are compared at rungs from {pruner['min_resource']} "
            f"epoch(s) up to {top}, and only the best 1/{pruner['reduction_factor']} at a rung go on; "
            "trials join brackets by the study name, fixed so a resumed study keeps them."
        )
    if kind in ("successive_halving", "asha"):
        first = "an epoch count Optuna estimates" if pruner["min_resource"] == "auto" else f"{pruner['min_resource']} epoch(s)"
        return (
            f"Successive halving pruning (sweep.pruner: {kind}): trials are first compared after {first}, "
            f"and only the best 1/{pruner['reduction_factor']} at each rung go on."
        )
    if kind == "median":
        return (
            f"Median pruning (sweep.pruner): after {pruner['n_startup_trials']} trial(s), a trial stops when "
            "its score at an epoch is worse than the median of the earlier trials at that epoch (checked "
            f"every {pruner['interval_steps']} epoch(s) after the first {pruner['n_warmup_steps']})."
        )
    return "No pruning (sweep.pruner: none): every trial trains all its epochs, which costs compute."


def _sweep_parameter_line(path: str, parameter: dict) -> tuple[str, str]:
    """One parameter of the search space: its path and what it searches in words
    (``("training.optimizer.lr", "log-uniform in [0.0001, 0.03]: ...")``)."""
    kind = parameter["distribution"]
    if kind == "log_uniform":
        text = (
            f"log-uniform in [{_number(parameter['low'])}, {_number(parameter['high'])}]: every order of "
            "magnitude as likely as the next, the right prior for rates and decays"
        )
    elif kind == "uniform":
        step = f" in steps of {_number(parameter['step'])}" if parameter["step"] is not None else ""
        text = f"uniform in [{_number(parameter['low'])}, {_number(parameter['high'])}]{step}"
    elif kind == "int":
        step = f" in steps of {parameter['step']}" if parameter["step"] != 1 else ""
        text = f"an integer in [{parameter['low']}, {parameter['high']}]{step}"
    elif kind == "int_log":
        text = f"an integer in [{parameter['low']}, {parameter['high']}], log-uniform"
    elif kind == "categorical":
        text = "one of " + ", ".join(_json_value(value) for value in parameter["values"])
    else:
        text = f"fixed at {_json_value(parameter['value'])}"
    if path.startswith("flag."):
        text += " (a switch for the conditions of others; it sets nothing)"
    conditions = [
        f"{other} is {' or '.join(_json_value(value) for value in allowed)}"
        for other, allowed in (parameter["when"] or {}).items()
    ]
    if conditions:
        text += ", only when " + " and ".join(conditions)
    return path, text


def _json_value(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)


def _torch_requirement(version: str | None) -> _Safe | None:
    if version is None:
        return None
    if not _VERSION.fullmatch(version):
        raise CodegenError(
            ("environment", "torch"),
            f"environment.torch is {version!r}, not a version pip can pin (write e.g. 2.3.1 or 2.3.0+cu121)",
        )
    return _Safe(f"torch=={version}")


def _rigorml_requirement(version: str | None) -> str:
    # A source tree without an install reports 0+unknown: pinning that would make the file unusable.
    if version is None or version.startswith("0+") or not _VERSION.fullmatch(version):
        return "rigorml[run]"
    return f"rigorml[run]=={version}"


# --- filters: how a value reaches each kind of text ----------------------------------------------


class _Safe(str):
    """Text a filter made for its destination; the only strings ``finalize`` lets through."""


def _finalize(value):
    if isinstance(value, _Safe) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TemplateSafetyError(
        f"a template printed {type(value).__name__} {str(value)[:40]!r} without a filter "
        "(py, comment, doc, md, code or sh)"
    )


def one_line(text) -> str:
    """``text`` as one printable line: every non-printable character (line and paragraph breaks,
    control and format characters, non-space blanks) becomes its Python escape (``\\n``, ``\\x85``,
    ``\\u2028``); the only whitespace left is the plain space."""
    out = []
    for char in str(text):
        if char.isprintable():
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(width, 20), break_on_hyphens=False) or [""]


def _prose(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(one_line(item) for item in value)
    return one_line(value)


def py_literal(value) -> str:
    """A Python literal that evaluates to ``value`` (str, int, float, bool, None, or a tuple of them)."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1] + '"'  # neither quote is in the value: the body needs no change
    elif isinstance(value, bool) or value is None or isinstance(value, int):
        text = repr(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TemplateSafetyError(f"{value!r} has no Python literal")
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        items = [py_literal(item) for item in value]
        text = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    else:
        raise TemplateSafetyError(f"{type(value).__name__} values are not written into generated code")
    if ast.literal_eval(text) != (tuple(value) if isinstance(value, list) else value):
        raise TemplateSafetyError(f"the literal {text[:40]!r} does not read back as the value")
    return text


def _py(value, lead: int = 0, indent: int = 0) -> _Safe:
    """``{{ value | py }}``; a tuple longer than the line (after ``lead`` columns) goes one item a line."""
    text = py_literal(value)
    if isinstance(value, (list, tuple)) and lead + len(text) > WIDTH:
        inner = " " * (indent + 4)
        text = "(\n" + "".join(f"{inner}{py_literal(item)},\n" for item in value) + " " * indent + ")"
    return _Safe(text)


def _comment(value, indent: int = 0) -> _Safe:
    """``#`` lines of at most WIDTH columns at ``indent``; a text starting ``- `` hangs under it."""
    text = _prose(value)
    hang = "  " if text.startswith("- ") else ""
    lines = _wrap(text, WIDTH - indent - 2 - len(hang))
    out = [f"# {lines[0]}".rstrip()] + [f"# {hang}{line}".rstrip() for line in lines[1:]]
    return _Safe(("\n" + " " * indent).join(out))


def _doc(value, lead: int = 0) -> _Safe:
    """Docstring text: wrapped (the first line after ``lead`` columns), backslashes and quotes escaped."""
    text = _prose(value)
    first, *rest = _wrap(text, WIDTH - lead)
    rest = _wrap(" ".join(rest), WIDTH) if rest else []
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in [first, *rest]]
    return _Safe("\n".join(escaped))


def _md(value) -> _Safe:
    """Markdown prose on one line: inline markup characters escaped, and a leading block marker."""
    text = "".join("\\" + c if c in _MARKDOWN_INLINE else c for c in _prose(value).strip())
    marker = _MARKDOWN_BLOCK_START.match(text)
    if marker:
        cut = marker.end() - 1  # escape the marker's last character: `\#`, `\-`, `1\.`
        text = text[:cut] + "\\" + text[cut:]
    return _Safe(text)


def _sh(value) -> _Safe:
    """One word of a shell command (quoted when it needs to be), on one line."""
    import shlex

    return _Safe(shlex.quote(one_line(value)))


def _code(value) -> _Safe:
    """A Markdown code span, its fence longer than any run of backticks inside."""
    text = one_line(value)
    if not text.strip():
        return _Safe('`""`')
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return _Safe(f"{fence}{pad}{text}{pad}{fence}")


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rigorml.templates", "project"),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(py=_py, comment=_comment, doc=_doc, md=_md, code=_code, sh=_sh)
    return env
