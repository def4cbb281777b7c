"""The runtime's core: arm configs, seeds, determinism, device, data, models, optimisers and schedules.

Real torch, NumPy and scikit-learn throughout (scikit-learn's bundled datasets: nothing downloaded).
"""

from __future__ import annotations

import math
import os
import random
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rigorml.runtime import data, determinism, device, models, optim, seeding
from rigorml.runtime.config import arm_config, spec_hash

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
SEEDS = {"global": 42, "data": 100, "model": 200, "train": 300}
SPLITS = {"train": 0.7, "val": 0.15, "test": 0.15}
BUILTINS = {
    "digits": ("classification", (1797, 64), 10),
    "breast_cancer": ("classification", (569, 30), 2),
    "wine": ("classification", (178, 13), 3),
    "iris": ("classification", (150, 4), 3),
    "diabetes": ("regression", (442, 10), None),
}


@pytest.fixture(scope="module")
def quickstart_resolved() -> dict:
    from conftest import resolve_in_process  # the CLI's own resolve, in process

    return resolve_in_process(QUICKSTART)


@pytest.fixture(scope="module")
def digits() -> data.Dataset:
    return data.load_data({"source": "builtin:digits"}, "classification", REPO)


# --- config ----------------------------------------------------------------------------------------


def test_arm_config_applies_the_variants_dotted_overrides(quickstart_resolved):
    wide = arm_config(quickstart_resolved, "wide")
    assert wide["model"]["params"]["hidden_sizes"] == [128]
    assert wide["model"]["params"]["dropout"] == 0.0
    assert arm_config(quickstart_resolved, "dropout")["model"]["params"]["dropout"] == 0.2


def test_arm_config_leaves_the_resolved_spec_unchanged(quickstart_resolved):
    before = spec_hash(quickstart_resolved)
    arm_config(quickstart_resolved, "wide")["model"]["params"]["hidden_sizes"].append(1)
    assert spec_hash(quickstart_resolved) == before


def test_arm_config_base_is_the_spec_without_overrides(quickstart_resolved):
    no_variants = {**quickstart_resolved, "variants": {}}
    assert arm_config(no_variants, "base") == no_variants
    assert arm_config(no_variants, "base") is not no_variants


def test_arm_config_rejects_an_unknown_arm(quickstart_resolved):
    with pytest.raises(ValueError, match=r"unknown arm 'widee'.*baseline, dropout, wide"):
        arm_config(quickstart_resolved, "widee")


def test_arm_config_indexes_lists_and_fills_null_sections():
    resolved = {
        "model": {"params": {"hidden_sizes": [32, 16]}},
        "training": {"grad_clip": None},
        "variants": {"v": {"overrides": {"model.params.hidden_sizes.1": 8, "training.grad_clip.max_norm": 0.5}}},
    }
    config = arm_config(resolved, "v")
    assert config["model"]["params"]["hidden_sizes"] == [32, 8]
    assert config["training"]["grad_clip"] == {"max_norm": 0.5}


def test_spec_hash_equals_the_compilers(quickstart_resolved):
    from rigorml.compiler.resolve import spec_hash as compiler_spec_hash

    assert spec_hash(quickstart_resolved) == compiler_spec_hash(quickstart_resolved)
    wide = arm_config(quickstart_resolved, "wide")
    assert spec_hash(wide) == compiler_spec_hash(wide) != spec_hash(quickstart_resolved)
    unicode = {"name": "données", "b": [1, 2.5], "a": None}
    assert spec_hash(unicode) == compiler_spec_hash(unicode)


# --- seeding ---------------------------------------------------------------------------------------


def _draws():
    return torch.rand(5), np.random.rand(5), [random.random() for _ in range(5)]


def test_same_seed_gives_identical_draws(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # restored after the test
    seeding.seed_everything(123)
    first = _draws()
    seeding.seed_everything(123)
    second = _draws()
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert os.environ["PYTHONHASHSEED"] == "123"


def test_different_seeds_give_different_draws():
    seeding.seed_everything(1)
    first = _draws()
    seeding.seed_everything(2)
    assert not torch.equal(first[0], _draws()[0])


def test_seed_everything_rejects_seeds_outside_32_bits():
    with pytest.raises(ValueError, match=r"\[0, 2\*\*32\)"):
        seeding.seed_everything(2**32)
    with pytest.raises(TypeError):
        seeding.seed_everything(1.5)


def test_seed_config_derives_each_component_with_a_seed_sequence():
    seeds = seeding.SeedConfig.for_replicate(SEEDS, 3)
    assert seeds.data == int(np.random.SeedSequence([100, 3]).generate_state(1)[0])
    assert seeds.global_ == int(np.random.SeedSequence([42, 3]).generate_state(1)[0])
    assert seeds.as_dict() == {"global": seeds.global_, "data": seeds.data, "model": seeds.model, "train": seeds.train}


def test_changing_the_data_seed_changes_only_the_data_seed():
    before = seeding.SeedConfig.for_replicate(SEEDS, 0)
    after = seeding.SeedConfig.for_replicate({**SEEDS, "data": 101}, 0)
    assert after.data != before.data
    assert (after.global_, after.model, after.train) == (before.global_, before.model, before.train)


def test_changing_the_model_seed_leaves_the_data_seed():
    before = seeding.SeedConfig.for_replicate(SEEDS, 0)
    after = seeding.SeedConfig.for_replicate({**SEEDS, "model": 201}, 0)
    assert after.model != before.model
    assert (after.global_, after.data, after.train) == (before.global_, before.data, before.train)


def test_replicates_get_different_seeds():
    configs = [seeding.SeedConfig.for_replicate(SEEDS, r) for r in range(5)]
    for component in ("global_", "data", "model", "train"):
        assert len({getattr(c, component) for c in configs}) == 5


def test_seed_config_is_frozen():
    seeds = seeding.SeedConfig.for_replicate(SEEDS, 0)
    with pytest.raises(AttributeError):
        seeds.data = 1  # type: ignore[misc]


def test_make_generator_repeats_its_stream():
    first = torch.randperm(20, generator=seeding.make_generator(7))
    assert torch.equal(first, torch.randperm(20, generator=seeding.make_generator(7)))
    assert not torch.equal(first, torch.randperm(20, generator=seeding.make_generator(8)))


def test_worker_init_fn_seeds_numpy_and_random_from_torch_and_the_worker_id():
    def worker_draws(worker_id):
        torch.manual_seed(55)
        seeding.worker_init_fn(worker_id)
        return np.random.rand(), random.random()

    assert worker_draws(0) == worker_draws(0)
    assert worker_draws(0) != worker_draws(1)


# --- determinism and device ------------------------------------------------------------------------


def test_enable_deterministic_sets_the_cublas_workspace_and_flags(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        determinism.enable_deterministic(warn_only=True)
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    finally:
        determinism.disable_deterministic()
    assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.deterministic
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_pick_device_auto_prefers_cuda_and_falls_back_to_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.pick_device("auto").type == expected
    assert device.pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_pick_device_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(device.DeviceUnavailableError, match="CUDA is not available"):
        device.pick_device("cuda:0")


def test_pick_device_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        device.pick_device("tpu")


# --- loading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_load_data_reads_each_builtin(name):
    task, shape, n_classes = BUILTINS[name]
    dataset = data.load_data({"source": f"builtin:{name}"}, task, REPO)
    assert dataset.features.shape == shape and dataset.features.dtype == np.float32
    assert dataset.target.shape == (shape[0],)
    assert dataset.target.dtype == (np.int64 if task == "classification" else np.float32)
    if n_classes:
        assert sorted(np.unique(dataset.target)) == list(range(n_classes))
    np.testing.assert_array_equal(dataset.ids, np.arange(shape[0]))
    assert len(dataset.version) == 64
    assert data.load_data({"source": f"builtin:{name}"}, task, REPO).version == dataset.version


def test_builtin_versions_differ_between_datasets():
    versions = {data.load_data({"source": f"builtin:{n}"}, t, REPO).version for n, (t, _, _) in BUILTINS.items()}
    assert len(versions) == len(BUILTINS)


def test_a_builtin_for_the_wrong_task_is_rejected():
    with pytest.raises(ValueError, match="diabetes is a regression dataset"):
        data.load_data({"source": "builtin:diabetes"}, "classification", REPO)


def test_load_data_reads_a_csv_with_a_header(tmp_path):
    (tmp_path / "houses.csv").write_text("rooms,area,label\n3,80.5,cat\n2,60,dog\n4,120,cat\n1,30,dog\n")
    section = {"source": "houses.csv", "target": "label", "features": None}
    dataset = data.load_data(section, "classification", tmp_path)
    np.testing.assert_array_equal(dataset.features, np.array([[3, 80.5], [2, 60], [4, 120], [1, 30]], dtype=np.float32))
    np.testing.assert_array_equal(dataset.target, [0, 1, 0, 1])
    assert list(dataset.classes) == ["cat", "dog"]
    np.testing.assert_array_equal(dataset.ids, [0, 1, 2, 3])
    only_area = data.load_data({**section, "features": ["area"]}, "classification", tmp_path)
    assert only_area.features.shape == (4, 1)
    assert only_area.version != dataset.version


def test_csv_labels_are_numbered_in_numeric_order(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n1,10\n2,9\n3,10\n")
    dataset = data.load_data({"source": "d.csv", "target": "y"}, "classification", tmp_path)
    assert list(dataset.classes) == [9, 10]
    np.testing.assert_array_equal(dataset.target, [1, 0, 1])


def test_a_csv_cell_that_is_not_a_number_names_its_column_and_row(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n1,0.5\n,0.7\n")
    with pytest.raises(ValueError, match=r"column 'x', data row 2"):
        data.load_data({"source": "d.csv", "target": "y"}, "regression", tmp_path)


def test_a_csv_split_column_gives_predefined_splits(tmp_path):
    (tmp_path / "d.csv").write_text("x,y,fold\n1,1.0,train\n2,2.0,test\n3,3.0,train\n4,4.0,val\n")
    section = {"source": "d.csv", "target": "y", "split_column": "fold"}
    dataset = data.load_data(section, "regression", tmp_path)
    assert dataset.features.shape == (4, 1)  # the split column is not a feature
    splits = data.split_indices(dataset.target, SPLITS, 0, False, split_column_values=dataset.split)
    assert {k: v.tolist() for k, v in splits.items()} == {"train": [0, 2], "val": [3], "test": [1]}


def test_load_data_calls_a_module_function_source_with_its_params(tmp_path):
    (tmp_path / "core_data_source.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def make(n, d=3):
                x = np.arange(n * d, dtype=np.float64).reshape(n, d)
                return x, (x[:, 0] > n).astype(int)

            def as_dict(n):
                return {"features": np.ones((n, 2)), "target": np.zeros(n), "ids": [f"ex{i}" for i in range(n)]}
            """
        )
    )
    dataset = data.load_data({"source": "core_data_source:make", "params": {"n": 6}}, "classification", tmp_path)
    assert dataset.features.shape == (6, 3) and dataset.features.dtype == np.float32
    assert dataset.target.dtype == np.int64
    named = data.load_data({"source": "core_data_source:as_dict", "params": {"n": 4}}, "regression", tmp_path)
    assert list(named.ids) == ["ex0", "ex1", "ex2", "ex3"]
    assert str(tmp_path.resolve()) not in sys.path  # the spec's directory is on the path only while loading


def test_a_module_source_returning_something_else_is_a_type_error(tmp_path):
    (tmp_path / "core_bad_source.py").write_text("def load():\n    return 42\n")
    with pytest.raises(TypeError, match=r"returns \(features, target\)"):
        data.load_data({"source": "core_bad_source:load"}, "regression", tmp_path)


def test_a_parquet_file_loads_like_the_same_table_as_csv(tmp_path):
    pandas = pytest.importorskip("pandas", reason="Parquet support needs pandas (installed with the dev extra)")
    pytest.importorskip("pyarrow", reason="Parquet support needs pyarrow (installed with the dev extra)")
    csv_text = "rooms,area,label,fold\n3,80.5,cat,train\n2,60,dog,test\n4,120,cat,train\n1,30,dog,val\n"
    (tmp_path / "houses.csv").write_text(csv_text)
    pandas.read_csv(tmp_path / "houses.csv").to_parquet(tmp_path / "houses.parquet")
    section = {"source": "houses.csv", "target": "label", "split_column": "fold"}
    from_csv = data.load_data(section, "classification", tmp_path)
    from_parquet = data.load_data({**section, "source": "houses.parquet"}, "classification", tmp_path)
    for field in ("features", "target", "ids", "split"):
        np.testing.assert_array_equal(getattr(from_parquet, field), getattr(from_csv, field))
    assert list(from_parquet.classes) == ["cat", "dog"]


def test_parquet_without_pandas_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pandas", None)  # importing it now raises ImportError
    with pytest.raises(ImportError, match="pip install pandas pyarrow"):
        data.load_data({"source": "d.parquet", "target": "y"}, "regression", tmp_path)


# --- splitting -------------------------------------------------------------------------------------


def test_split_indices_is_deterministic_for_a_seed(digits):
    first = data.split_indices(digits.target, SPLITS, 100, True)
    second = data.split_indices(digits.target, SPLITS, 100, True)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(first[name], second[name])


def test_split_indices_are_disjoint_sorted_and_cover_every_example(digits):
    splits = data.split_indices(digits.target, SPLITS, 100, True)
    joined = np.concatenate(list(splits.values()))
    assert len(joined) == len(set(joined.tolist())) == len(digits)
    assert all(np.all(np.diff(part) > 0) for part in splits.values())


def test_split_indices_respect_the_fractions(digits):
    splits = data.split_indices(digits.target, SPLITS, 100, False)
    for name, fraction in SPLITS.items():
        assert abs(len(splits[name]) - fraction * len(digits)) <= 1


def test_stratified_splits_keep_class_proportions(digits):
    splits = data.split_indices(digits.target, SPLITS, 100, True)
    overall = np.bincount(digits.target) / len(digits)
    for name, part in splits.items():
        counts = np.bincount(digits.target[part], minlength=10)
        # Stratification rounds each class's share: within one example of the proportional count.
        assert np.all(np.abs(counts - overall * len(part)) <= 1.0 + 1e-9), name


def test_changing_the_seed_changes_the_split(digits):
    first = data.split_indices(digits.target, SPLITS, 100, True)
    second = data.split_indices(digits.target, SPLITS, 101, True)
    assert not np.array_equal(first["test"], second["test"])


def test_split_indices_accepts_the_contracts_n_first_form(digits):
    n_first = data.split_indices(len(digits), digits.target, SPLITS, 7, True)
    target_first = data.split_indices(digits.target, SPLITS, 7, True)
    assert all(np.array_equal(n_first[k], target_first[k]) for k in SPLITS)
    unstratified = data.split_indices(50, None, {"train": 0.8, "val": 0.0, "test": 0.2}, 7, False)
    assert (len(unstratified["train"]), len(unstratified["val"]), len(unstratified["test"])) == (40, 0, 10)


def test_split_sizes_are_rounded_fractions_of_all_examples():
    # 0.1 / (0.8 + 0.1) of the 135 left after test is 15.000000000000002: counted once, not twice.
    splits = data.split_indices(150, None, {"train": 0.8, "val": 0.1, "test": 0.1}, 1, False)
    assert (len(splits["train"]), len(splits["val"]), len(splits["test"])) == (120, 15, 15)


def test_split_fractions_that_do_not_sum_to_one_are_rejected(digits):
    with pytest.raises(ValueError, match="sum to 1"):
        data.split_indices(digits.target, {"train": 0.7, "val": 0.2, "test": 0.2}, 0, False)


def test_standardize_uses_training_statistics_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0]], dtype=np.float32)
    test = np.array([[4.0, 6.0]], dtype=np.float32)
    mean, std, train_scaled, test_scaled = data.standardize(train, test)
    np.testing.assert_allclose(mean, [1.0, 5.0])
    np.testing.assert_allclose(std, [1.0, 1.0])  # the constant column is divided by 1, not 0
    np.testing.assert_allclose(train_scaled, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(test_scaled, [[3.0, 1.0]])
    assert test_scaled.dtype == np.float32


# --- loaders ---------------------------------------------------------------------------------------


def _epoch_indices(loader) -> list[int]:
    return [int(i) for _, _, index in loader for i in index]


def test_make_loader_yields_features_target_and_example_index(digits):
    indices = np.arange(10, 50)
    loader = data.make_loader(digits.features, digits.target, indices, batch_size=16, shuffle=False, seed=0)
    features, target, index = next(iter(loader))
    assert features.dtype == torch.float32 and target.dtype == torch.int64
    assert index.tolist() == list(range(10, 26))
    assert torch.equal(features, torch.from_numpy(digits.features[10:26]))


def test_make_loader_shuffles_reproducibly_for_a_seed(digits):
    def order(seed):
        loader = data.make_loader(digits, np.arange(200), batch_size=32, shuffle=True, seed=seed)
        return _epoch_indices(loader), _epoch_indices(loader)

    first_epoch, second_epoch = order(5)
    assert order(5) == (first_epoch, second_epoch)  # re-created with the same seed: identical batches
    assert first_epoch != second_epoch  # a new order every epoch
    assert first_epoch != order(6)[0]
    assert sorted(first_epoch) == list(range(200))


def test_make_loader_with_workers_repeats_its_batches(digits):
    def batches():
        loader = data.make_loader(digits, np.arange(120), batch_size=16, shuffle=True, seed=3, num_workers=2)
        return [index.tolist() for _, _, index in loader]

    assert batches() == batches()


def test_restoring_the_generator_state_replays_an_epoch(digits):
    loader = data.make_loader(digits, np.arange(100), batch_size=10, shuffle=True, seed=4)
    state = loader.generator.get_state()  # what a checkpoint keeps at the start of an epoch
    epoch = _epoch_indices(loader)
    loader.generator.set_state(state)
    assert _epoch_indices(loader) == epoch


def test_make_loader_does_not_touch_the_global_torch_rng(digits):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    loader = data.make_loader(digits, None, 256, True, 1, 0)  # the contract's positional form
    _epoch_indices(loader)
    assert torch.equal(torch.rand(3), expected)


# --- models ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, params",
    [
        ("builtin:logreg", {}),
        ("builtin:linear", {}),
        ("builtin:mlp", {}),
        ("builtin:mlp", {"hidden_sizes": [16, 8], "dropout": 0.1, "activation": "gelu"}),
        ("builtin:mlp", {"hidden_sizes": [4], "activation": "tanh"}),
    ],
)
def test_build_model_maps_inputs_to_outputs(source, params):
    model = models.build_model({"source": source, "params": params}, input_dim=12, output_dim=3)
    assert model(torch.zeros(5, 12)).shape == (5, 3)


def test_mlp_layers_follow_its_params():
    model = models.build_model({"source": "builtin:mlp", "params": {"hidden_sizes": [16, 8], "dropout": 0.2}}, 4, 2)
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [16, 8, 2]
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 2


def test_unknown_builtin_params_are_rejected():
    with pytest.raises(ValueError, match="does not take hidden_size"):
        models.build_model({"source": "builtin:mlp", "params": {"hidden_size": [8]}}, 4, 2)


def test_build_model_with_a_seed_initialises_the_same_weights_without_touching_the_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    first = models.build_model({"source": "builtin:mlp", "params": {}}, 4, 2, seed=9)
    assert torch.equal(torch.rand(2), expected)
    second = models.build_model({"source": "builtin:mlp", "params": {}}, 4, 2, seed=9)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_a_module_function_factory_gets_the_dims_and_params(tmp_path):
    (tmp_path / "core_model_factory.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            def build(input_dim, output_dim, width=5):
                return nn.Sequential(nn.Linear(input_dim, width), nn.Linear(width, output_dim))

            def not_a_module(input_dim, output_dim):
                return "model"
            """
        )
    )
    model = models.build_model({"source": "core_model_factory:build", "params": {"width": 7}}, 3, 2, base_dir=tmp_path)
    assert model[0].out_features == 7 and model(torch.zeros(1, 3)).shape == (1, 2)
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        models.build_model({"source": "core_model_factory:not_a_module", "params": {}}, 3, 2, base_dir=tmp_path)


# --- optimisers and schedules ----------------------------------------------------------------------


OPTIMIZER_SECTIONS = {
    "adam": ({"betas": [0.8, 0.99], "eps": 1e-7, "amsgrad": True}, torch.optim.Adam),
    "adamw": ({"betas": [0.9, 0.999], "eps": 1e-8, "amsgrad": False}, torch.optim.AdamW),
    "nadam": ({"betas": [0.9, 0.999], "eps": 1e-8}, torch.optim.NAdam),
    "radam": ({"betas": [0.9, 0.999], "eps": 1e-8}, torch.optim.RAdam),
    "adamax": ({"betas": [0.9, 0.999], "eps": 1e-8}, torch.optim.Adamax),
    "sgd": ({"momentum": 0.9, "nesterov": True}, torch.optim.SGD),
    "rmsprop": ({"momentum": 0.5, "alpha": 0.9, "eps": 1e-8}, torch.optim.RMSprop),
    "adagrad": ({"eps": 1e-10}, torch.optim.Adagrad),
}


def test_every_optimizer_of_the_spec_model_is_built():
    from typing import get_args

    from rigorml.schemas.training import AdamOptimizer, AdagradOptimizer, RMSpropOptimizer, SGDOptimizer

    families = (AdamOptimizer, SGDOptimizer, RMSpropOptimizer, AdagradOptimizer)
    names = {name for family in families for name in get_args(family.model_fields["name"].annotation)}
    assert names == set(OPTIMIZER_SECTIONS) == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(OPTIMIZER_SECTIONS))
def test_build_optimizer_passes_the_sections_settings(name):
    extra, cls = OPTIMIZER_SECTIONS[name]
    parameter = nn.Parameter(torch.ones(3))
    optimizer = optim.build_optimizer([parameter], {"name": name, "lr": 0.05, "weight_decay": 0.01, **extra})
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01
    for key, value in extra.items():
        assert group[key] == (tuple(value) if isinstance(value, list) else value)
    parameter.sum().backward()
    optimizer.step()
    assert not torch.equal(parameter.detach(), torch.ones(3))


def test_amsgrad_outside_adam_and_adamw_is_rejected():
    with pytest.raises(ValueError, match="no AMSGrad variant"):
        optim.build_optimizer([nn.Parameter(torch.ones(1))], {"name": "nadam", "amsgrad": True})


def _lrs(section, steps_per_epoch=5, epochs=4, lr=0.1, **kwargs):
    optimizer = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=lr)
    scheduler, interval = optim.build_scheduler(optimizer, section, steps_per_epoch, epochs, **kwargs)
    lrs = []
    for _ in range(steps_per_epoch * epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs, optimizer.param_groups[0]["lr"], interval


def test_cosine_reaches_min_lr_at_the_end():
    lrs, final, interval = _lrs({"name": "cosine", "min_lr": 0.001})
    assert interval == "step"
    assert lrs[0] == pytest.approx(0.1)
    assert final == pytest.approx(0.001)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    assert lrs[10] == pytest.approx(0.001 + 0.099 * 0.5 * (1 + math.cos(math.pi * 10 / 20)))


def test_warmup_ramps_linearly_to_the_base_lr():
    lrs, final, _ = _lrs({"name": "cosine", "warmup_steps": 4, "min_lr": 0.0})
    assert lrs[:5] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1])
    assert final == pytest.approx(0.0, abs=1e-12)


def test_linear_decays_to_min_lr():
    lrs, final, _ = _lrs({"name": "linear", "min_lr": 0.01})
    assert lrs[10] == pytest.approx(0.01 + 0.09 * 0.5)
    assert final == pytest.approx(0.01)


def test_step_decays_every_step_size_epochs():
    lrs, _, _ = _lrs({"name": "step", "step_size": 2, "gamma": 0.5})
    assert lrs[0] == lrs[9] == pytest.approx(0.1)
    assert lrs[10] == lrs[19] == pytest.approx(0.05)


def test_exponential_decays_every_epoch():
    lrs, _, _ = _lrs({"name": "exponential", "gamma": 0.5})
    assert [lrs[e * 5] for e in range(4)] == pytest.approx([0.1, 0.05, 0.025, 0.0125])


def test_onecycle_follows_torchs_onecycle_shape():
    lrs, _, _ = _lrs({"name": "onecycle"})
    reference = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    torch_schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.1, total_steps=20, cycle_momentum=False)
    expected = []
    for _ in range(20):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        if len(expected) < 20:
            torch_schedule.step()
    assert lrs == pytest.approx(expected)
    assert max(lrs) == pytest.approx(0.1)


def test_none_without_warmup_is_no_scheduler():
    optimizer = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    assert optim.build_scheduler(optimizer, {"name": "none"}, 5, 4) == (None, "step")


def test_plateau_is_stepped_with_the_validation_metric():
    optimizer = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    scheduler, interval = optim.build_scheduler(optimizer, {"name": "plateau", "gamma": 0.5, "patience": 1}, 5, 4)
    assert interval == "plateau"
    for loss in (1.0, 1.0, 1.0):
        scheduler.step(loss)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
