"""Messages and locations for the cases a user is most likely to hit first."""

from __future__ import annotations


def only(checked):
    assert len(checked.diagnostics) == 1, [d.format_text() for d in checked.diagnostics]
    return checked.diagnostics[0]


def test_version_written_as_a_string_says_to_remove_the_quotes(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("version: 1", "version: '1'")))
    assert d.code == "SPC006" and "not the string '1'" in d.message and d.hint == "remove the quotes"


def test_did_you_mean_does_not_suggest_a_key_that_is_already_set(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("  task: classification", "  task: classification\n  tgas: [a]")))
    assert d.code == "SPC001" and "did you mean 'tags'?" in d.message


def test_traits_that_do_not_fit_the_task_are_located_at_traits(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("  task: classification", "  task: classification\n  traits: [rag]")))
    assert (d.code, d.span.line, d.span.col) == ("SPC004", 5, 11)


def test_low_above_high_is_located_at_high(check_spec):
    d = only(check_spec("sweep:\n  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 0.1, high: 0.01}\n"))
    assert (d.code, d.span.line, d.span.col) == ("SPC004", 11, 72)


def test_a_name_with_a_trailing_newline_is_rejected(check_text, minimal_spec):
    d = only(check_text(minimal_spec.replace("  name: demo", '  name: "demo\\n"')))
    assert d.code == "SPC004" and "not a valid name" in d.message


def test_fix_keeps_the_file_mode(tmp_path):
    import os
    import stat

    from rigorml.compiler.cli import main
    from rigorml.rules.base import BASE

    path = tmp_path / "spec.yaml"
    path.write_text(BASE + "tracking:\n  capture:\n    command: false\n", encoding="utf-8")
    os.chmod(path, 0o644)
    main(["lint", "--fix", "-q", str(path)])
    assert "command: true" in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
