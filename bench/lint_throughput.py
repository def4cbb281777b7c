"""Throughput and start-up of `rigorml lint`, against yamllint on the same files.

Targets (issue 3), each measured in this one run with the tools' runs interleaved (so machine noise
hits both alike):

* throughput: one `rigorml lint --exit-zero -q DIR` process over 1,000 specs takes at most 0.5x
  the wall time of one `yamllint DIR` process over the same files;
* cold start: `rigorml lint examples/quickstart.yaml` takes at most 1.0x `yamllint` on that file
  (median of 20 single-file runs each).

yamllint runs with its default configuration (no `-d`/`-c`: the `default` preset), the same in every
run. The 1,000 specs are variations of examples/*.yaml (other names and seeds; every third one with
an extra finding: too few replicate seeds, or an unused suppression) written to a temporary folder.

    python bench/lint_throughput.py [--files 1000] [--repeats 5] [--cold-runs 20]

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
THROUGHPUT_TARGET, COLD_TARGET = 0.5, 1.0


def _tool(name: str) -> str:
    """The executable next to this Python first (the project's venv), then PATH."""
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the dev extra (pip install -e '.[dev]')")
    return found


def spec_variations(count: int) -> dict[str, str]:
    """``count`` spec texts made from the examples: file name -> text."""
    out: dict[str, str] = {}
    texts = [(path.stem, path.read_text(encoding="utf-8")) for path in EXAMPLES]
    for i in range(count):
        stem, text = texts[i % len(texts)]
        text = re.sub(r"(?m)^(  name: )(\S+)", lambda m: f"{m[1]}{m[2]}-{i:04d}", text, count=1)
        text = re.sub(r"(?m)^(  global: )\d+", lambda m: f"{m[1]}{1000 + 7 * i}", text, count=1)
        if i % 3 == 1:  # a statistics finding (STA001) where the example sets replicates
            text = re.sub(r"(?m)^(  replicates: )\d+", r"\g<1>3", text, count=1)
        elif i % 3 == 2:  # an unused suppression (SUP001)
            text = text.replace("\nexperiment:\n", "\nexperiment:  # rigorml: ignore[PIP001]\n", 1)
        out[f"{stem}-{i:04d}.yaml"] = text
    return out


def _time(cmd: list[str], expect: set[int]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in expect:
        sys.exit(f"{' '.join(cmd[:3])} ... exited {done.returncode}: {done.stderr.decode()[-800:]}")
    return elapsed


def _interleaved(commands: dict[str, tuple[list[str], set[int]]], runs: int) -> dict[str, list[float]]:
    for cmd, expect in commands.values():  # warm the page cache and the .pyc files
        _time(cmd, expect)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, expect) in commands.items():
            samples[name].append(_time(cmd, expect))
    return samples


def _report(title: str, samples: dict[str, list[float]], target: float) -> bool:
    print(title)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, values in samples.items():
        print(f"  {name:44s} median {1000 * medians[name]:8.1f} ms  (min {1000 * min(values):.1f}, max {1000 * max(values):.1f}, {len(values)} runs)")
    rigorml, yamllint = medians.values()
    ratio = rigorml / yamllint
    met = ratio <= target
    print(f"  ratio rigorml/yamllint = {ratio:.2f}x (target <= {target}x): {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="spec files in the throughput run (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed throughput runs per tool (default 5)")
    parser.add_argument("--cold-runs", type=int, default=20, help="timed single-file runs per tool (default 20)")
    args = parser.parse_args()

    rigorml, yamllint = _tool("rigorml"), _tool("yamllint")
    # pip byte-compiles installed packages (yamllint's .pyc files exist); an editable install only
    # writes them on first import, and not at all under PYTHONDONTWRITEBYTECODE. Compile ours so
    # both tools start the way an installed package does (as bench/lint_startup.py does).
    packages = [str(ROOT / d) for d in ("compiler", "schemas", "rules", "runtime", "templates")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)

    with tempfile.TemporaryDirectory(prefix="rigorml-bench-") as directory:
        specs = spec_variations(args.files)
        for name, text in specs.items():
            Path(directory, name).write_text(text, encoding="utf-8")
        print(f"{len(specs)} specs from {len(EXAMPLES)} examples in {directory}; yamllint with its default configuration")
        throughput = _interleaved(
            {
                f"rigorml lint --exit-zero -q DIR ({len(specs)} files)": ([rigorml, "lint", "--exit-zero", "-q", directory], {0}),
                f"yamllint DIR ({len(specs)} files)": ([yamllint, directory], {0, 1}),
            },
            args.repeats,
        )
        met_throughput = _report("throughput: one process over every file", throughput, THROUGHPUT_TARGET)

    cold = _interleaved(
        {
            "rigorml lint examples/quickstart.yaml": ([rigorml, "lint", str(QUICKSTART)], {0, 1}),
            "yamllint examples/quickstart.yaml": ([yamllint, str(QUICKSTART)], {0, 1}),
        },
        args.cold_runs,
    )
    met_cold = _report("cold start: one process per run, one file", cold, COLD_TARGET)
    return 0 if met_throughput and met_cold else 1


if __name__ == "__main__":
    sys.exit(main())
