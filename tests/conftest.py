"""Shared fixtures: spec files under tmp_path, composing and validating them, the CLI as a process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rigorml.compiler.cli import main as cli_main
from rigorml.compiler.compose import compose
from rigorml.compiler.diagnostics import Diagnostic
from rigorml.compiler.validate import validate_data
from rigorml.rules.base import BASE

#: The smallest valid spec (8 lines), so a section appended to it starts on line 9 (the same text
#: rule examples build on).
MINIMAL_SPEC = BASE


@pytest.fixture
def minimal_spec() -> str:
    """The text of the smallest valid spec; whatever is appended to it starts on line 9."""
    return MINIMAL_SPEC


@pytest.fixture
def write_spec(tmp_path):
    """``write_spec(text, name="spec.yaml") -> Path``: ``text`` (dedented) written under tmp_path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def resolve_in_process(path, *overrides: str) -> dict:
    """The resolved spec that ``rigorml resolve --format json PATH OVERRIDES...`` prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main(["resolve", "--format", "json", str(path), *overrides])
    assert rc == 0, err.getvalue()
    return json.loads(out.getvalue())


@dataclass
class Checked:
    """A spec file after compose + validate: the validated spec (None when invalid) and the problems."""

    path: Path
    overrides: tuple
    spec: Any
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def resolved(self) -> dict:
        """The resolved JSON form (defaults filled), as ``rigorml resolve --format json`` prints it."""
        assert not self.diagnostics, "\n".join(d.format_text() for d in self.diagnostics)
        return resolve_in_process(self.path, *self.overrides)


def _check(path, overrides=()) -> Checked:
    composed = compose(str(path), list(overrides))
    if composed.data is None or composed.diagnostics:
        return Checked(Path(path), tuple(overrides), None, list(composed.diagnostics))
    validated = validate_data(composed.data, composed.source_map)
    return Checked(Path(path), tuple(overrides), validated.spec, list(validated.diagnostics))


@pytest.fixture
def check_file():
    """``check_file(path, *overrides) -> Checked``: compose (extends, overrides) then validate."""

    def check(path, *overrides: str) -> Checked:
        return _check(path, overrides)

    return check


@pytest.fixture
def check_text(write_spec):
    """``check_text(text, *overrides) -> Checked`` for a whole spec written as ``text`` (dedented)."""

    def check(text: str, *overrides: str) -> Checked:
        return _check(write_spec(text), overrides)

    return check


@pytest.fixture
def check_spec(write_spec):
    """``check_spec(section_text, *overrides) -> Checked`` for the minimal spec plus a section.

    ``section_text`` is dedented and appended to the minimal spec, so its first line is line 9.
    """

    def check(section_text: str = "", *overrides: str) -> Checked:
        path = write_spec(MINIMAL_SPEC + textwrap.dedent(section_text))
        return _check(path, overrides)

    return check


@pytest.fixture
def run_cli():
    """``run_cli(*args, cwd=None, input=None) -> (returncode, stdout, stderr)`` of ``python -m rigorml.compiler``."""

    def run(*args: str, cwd=None, input: str | None = None, timeout: float = 60):
        env = {k: v for k, v in os.environ.items() if k != "RIGORML_DEBUG"}
        done = subprocess.run(
            [sys.executable, "-m", "rigorml.compiler", *map(str, args)],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        return done.returncode, done.stdout, done.stderr

    return run


# --- a browser for the HTML report -----------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def chromium():
    """Debian's headless Chromium driven by its chromedriver (CI: apt-get install -y chromium
    chromium-driver), with no network-facing extras and a fresh profile."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: pip install -c constraints.txt selenium")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rigorml-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --- training in the test process ----------------------------------------------------------------


@contextlib.contextmanager
def training_in_this_process():
    """Training in this process changes PYTHONHASHSEED and the SIGTERM handler: put them back.
    One torch thread: the tests' small MLPs gain nothing from more, and lose much on a busy machine."""
    torch = pytest.importorskip("torch")
    hash_seed, sigterm, threads = os.environ.get("PYTHONHASHSEED"), signal.getsignal(signal.SIGTERM), torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        signal.signal(signal.SIGTERM, sigterm)
        if hash_seed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = hash_seed
