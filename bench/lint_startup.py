"""Start-up cost of `rigorml validate` on the quickstart, against yamllint and check-jsonschema.

Targets (issue 2): rigorml's median wall time at most 1.0x yamllint's and at most 0.5x
check-jsonschema's, on the same file, measured in one run with the runs interleaved (so machine
noise hits every tool alike). All three tools come from the `dev` extra, in the same environment.

    python bench/lint_startup.py [--runs 30]

Prints one line per tool and the two ratios; exits 1 when a target is missed.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "quickstart.yaml"
SCHEMA = ROOT / "schemas" / "experiment.schema.json"


def _tool(name: str) -> str:
    """The executable next to this Python first (the project's venv), then PATH."""
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the dev extra (pip install -e '.[dev]')")
    return found


def _time(cmd: list[str], expect: set[int]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in expect:
        sys.exit(f"{cmd[0]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per tool (default 30)")
    args = parser.parse_args()

    commands = {
        "rigorml validate": ([_tool("rigorml"), "validate", "-q", str(SPEC)], {0}),
        # yamllint's default config warns about style on the file; a finding is still a full run.
        "yamllint": ([_tool("yamllint"), str(SPEC)], {0, 1}),
        "check-jsonschema": ([_tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(SPEC)], {0}),
    }
    # pip byte-compiles installed packages (yamllint's .pyc files exist); an editable install only
    # writes them on first import, and not at all under PYTHONDONTWRITEBYTECODE. Compile ours so
    # both tools start the way an installed package does.
    packages = [str(ROOT / d) for d in ("compiler", "schemas", "rules", "runtime", "templates")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)
    env_note = "" if not os.environ.get("RIGORML_NO_COMPILED") else " (RIGORML_NO_COMPILED set: pydantic path)"
    for cmd, expect in commands.values():  # warm the page cache and the .pyc files
        _time(cmd, expect)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, expect) in commands.items():
            samples[name].append(_time(cmd, expect))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, median in medians.items():
        spread = statistics.quantiles(samples[name], n=4)
        print(f"{name:18s} median {1000 * median:7.1f} ms  (IQR {1000 * spread[0]:.1f}-{1000 * spread[2]:.1f} ms, {args.runs} runs)")
    vs_yamllint = medians["rigorml validate"] / medians["yamllint"]
    vs_cjs = medians["rigorml validate"] / medians["check-jsonschema"]
    print(f"ratio rigorml/yamllint         = {vs_yamllint:.2f}x (target <= 1.0x){env_note}")
    print(f"ratio rigorml/check-jsonschema = {vs_cjs:.2f}x (target <= 0.5x)")
    return 0 if vs_yamllint <= 1.0 and vs_cjs <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
