"""Cross-field rules that make a spec meaningless: each is a located validation error."""

from __future__ import annotations


def only(checked):
    assert len(checked.diagnostics) == 1, [d.format_text() for d in checked.diagnostics]
    return checked.diagnostics[0]


def test_win_rate_without_an_llm_judge_is_an_error(check_text, minimal_spec):
    text = minimal_spec.replace("classification", "generation").replace("builtin:digits", "pkg.data:load")
    text = text.replace("builtin:mlp", "pkg.models:build")
    d = only(check_text(text + "metrics:\n  primary: win_rate\n"))
    assert (d.code, d.span.line, d.span.col) == ("SPC016", 10, 12)
    assert "llm_judge" in d.message


def test_win_rate_with_an_llm_judge_is_valid(check_text, minimal_spec):
    text = minimal_spec.replace("classification", "generation").replace("builtin:digits", "pkg.data:load")
    text = text.replace("builtin:mlp", "pkg.models:build")
    text += "metrics:\n  primary: win_rate\nllm_judge:\n  callable: pkg.judge:judge\n"
    assert check_text(text).diagnostics == []


def test_stratify_defaults_to_true_only_for_classification(check_text, minimal_spec):
    classification = check_text(minimal_spec).resolved()
    regression = check_text(minimal_spec.replace("classification", "regression").replace("digits", "diabetes")).resolved()
    assert classification["data"]["stratify"] is True
    assert regression["data"]["stratify"] is False


def test_stratify_on_a_regression_target_is_an_error(check_text, minimal_spec):
    text = minimal_spec.replace("classification", "regression").replace("builtin:digits", "builtin:diabetes")
    d = only(check_text(text.replace("  source: builtin:diabetes\n", "  source: builtin:diabetes\n  stratify: true\n")))
    assert (d.code, d.span.line, d.span.col) == ("SPC017", 7, 13)


def test_first_deployment_cannot_be_gated_against_production(check_spec):
    d = only(check_spec("deployment:\n  first_deployment: true\n  gate: {metric: f1_macro}\n"))
    assert d.code == "SPC018" and d.span.line == 11


def test_first_deployment_may_be_gated_against_an_arm(check_spec):
    section = "variants:\n  base_arm: {role: baseline}\ndeployment:\n  first_deployment: true\n  gate: {metric: f1_macro, baseline: base_arm}\n"
    assert check_spec(section).diagnostics == []


def test_a_flag_switches_weight_decay_on_and_off(check_spec):
    section = """\
        sweep:
          parameters:
            flag.use_weight_decay: {values: [true, false]}
            training.optimizer.weight_decay:
              distribution: log_uniform
              low: 1.0e-6
              high: 1.0e-2
              when: {flag.use_weight_decay: [true]}
        """
    assert check_spec(section).diagnostics == []


def test_a_flag_must_be_categorical(check_spec):
    section = "sweep:\n  parameters:\n    flag.use_wd: {distribution: uniform, low: 0, high: 1}\n"
    d = only(check_spec(section))
    assert (d.code, d.span.line, d.span.col) == ("SPC014", 11, 5)
