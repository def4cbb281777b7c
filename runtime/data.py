"""Data: load a spec's data source, split it reproducibly, and serve it through seeded DataLoaders.

Sources, by the form of ``data.source``:

* ``builtin:NAME``: scikit-learn's bundled datasets (digits, breast_cancer, wine, iris, diabetes),
  read from the installed package; nothing is downloaded.
* ``path.csv`` / ``path.tsv`` (relative to the spec's directory): a header row, the target column
  named by ``data.target``, features ``data.features`` or every other numeric column.
* ``path.parquet`` / ``path.pq``: the same, read with pandas + pyarrow (installed separately).
* ``module.path:function``: called with ``**data.params``; returns ``(features, target)`` or a dict
  with ``features``, ``target`` and optionally ``ids`` and ``split``.

Features are kept as loaded (not standardised): the statistics of a scaling must come from the
training split alone, which is only known after :func:`split_indices`; :func:`standardize` does that.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from rigorml.schemas.vocabulary import BUILTIN_DATASETS, SPLITS

from .config import importable_from, resolve_callable
from .seeding import make_generator, worker_init_fn

_TABLE_SUFFIXES = (".csv", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: arrays in example order, stable ids, and a content version.

    ``features``: float32, ``[n, d]`` (a ``module:function`` source may return more dimensions, e.g.
    images, for its own model). ``target``: int64 class ids ``0..K-1`` for classification, float32
    for regression, as returned for other tasks. ``ids``: one stable id per example (row number,
    or the source's own ids). ``version``: sha256 of the content (:func:`content_version`).
    ``classes``: for classification, the original label of each class id (``classes[k]`` is the
    label encoded as ``k``). ``split``: the predefined split name of each example when the spec
    names a ``data.split_column``, else None.
    Treat the arrays as read-only: the version describes them as loaded.
    """

    features: np.ndarray
    target: np.ndarray
    ids: np.ndarray
    version: str
    classes: np.ndarray | None = None
    split: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.target)

    @property
    def input_dim(self) -> int:
        """Features per example (the size of a feature vector; the product for multi-dim features)."""
        return int(np.prod(self.features.shape[1:]))


def content_version(features: np.ndarray, target: np.ndarray, split: np.ndarray | None = None) -> str:
    """sha256 (hex) of the data's content: dtype, shape and bytes of features and target (and of
    the predefined split, when there is one). Equal data gives an equal version on every machine
    with the same byte order.
    """
    digest = hashlib.sha256()
    arrays = [("features", features), ("target", target)]
    if split is not None:
        arrays.append(("split", np.asarray(split, dtype=str)))
    for name, array in arrays:
        array = np.ascontiguousarray(array)
        # The header keeps [2, 3] float32 and [3, 2] float32 with equal bytes apart.
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


# --- loading ---------------------------------------------------------------------------------------


def load_data(data_section: dict, task: str, base_dir: str | Path) -> Dataset:
    """Load the data a spec's ``data`` section names.

    Inputs: ``data_section``, the resolved ``data`` mapping (``source``, ``target``, ``features``,
    ``split_column``, ``params``); ``task``, the experiment's task (``classification`` encodes the
    target as class ids ``0..K-1`` in sorted label order, ``regression`` makes it float32); ``base_dir``,
    the spec's directory, against which file paths are resolved and from which ``module:function``
    sources are imported first.
    Output: a :class:`Dataset`; features are not standardised (see :func:`standardize`).
    Errors: ValueError for an unknown builtin, a builtin used for the wrong task, missing or
    non-numeric columns, empty data or mismatched lengths (messages name the column and row);
    FileNotFoundError for a missing file; ImportError when Parquet is read without pandas/pyarrow
    or a module cannot be imported; TypeError when a ``module:function`` returns something else.
    """
    source = data_section["source"]
    base_dir = Path(base_dir)
    if source.startswith("builtin:"):
        features, target, ids, split = _load_builtin(source.removeprefix("builtin:"), task, data_section)
    elif source.lower().endswith(_TABLE_SUFFIXES + _PARQUET_SUFFIXES):
        features, target, ids, split = _load_table(base_dir / source, data_section)
    elif ":" in source:
        features, target, ids, split = _load_callable(source, data_section, base_dir)
    else:
        raise ValueError(
            f"data source {source!r} is not `builtin:NAME`, a .csv/.tsv/.parquet path or a `module.path:function`"
        )
    return _make_dataset(features, target, ids, split, task, source)


def _load_builtin(name: str, task: str, data_section: dict):
    if name not in BUILTIN_DATASETS:
        raise ValueError(f"unknown builtin dataset {name!r} (builtins: {', '.join(BUILTIN_DATASETS)})")
    if BUILTIN_DATASETS[name] != task:
        raise ValueError(f"builtin:{name} is a {BUILTIN_DATASETS[name]} dataset; the experiment's task is {task!r}")
    if data_section.get("split_column"):
        raise ValueError(f"builtin:{name} has no split column; remove `data.split_column` to split by fractions")
    import sklearn.datasets  # the loaders read CSV files shipped inside scikit-learn

    loader = getattr(sklearn.datasets, f"load_{name}")
    # diabetes ships pre-scaled with statistics of all 442 examples (test included); the raw
    # values let standardize() use the training split's statistics like every other source.
    options = {"scaled": False} if name == "diabetes" else {}
    features, target = loader(return_X_y=True, **options)
    return features, target, np.arange(len(target), dtype=np.int64), None


def _load_table(path: Path, data_section: dict):
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist (data.source is resolved against the spec's directory)")
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        columns = _read_parquet(path)
    else:
        columns = _read_delimited(path, "\t" if path.suffix.lower() == ".tsv" else ",")
    return _columns_to_arrays(columns, data_section, str(path))


def _read_delimited(path: Path, delimiter: str) -> dict[str, np.ndarray]:
    with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a BOM from spreadsheet exports
        rows = list(csv.reader(handle, delimiter=delimiter))
    if not rows:
        raise ValueError(f"{path}: the file is empty; a header row naming the columns is required")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if len(set(header)) != len(header):
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise ValueError(f"{path}: the header repeats column(s) {', '.join(repeated)}")
    body = [row for row in body if any(cell.strip() for cell in row)]  # trailing blank lines
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}:{number}: {len(row)} fields, the header has {len(header)}")
    return {name: np.array([row[i].strip() for row in body], dtype=str) for i, name in enumerate(header)}


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    try:
        import pandas  # noqa: F401  (Parquet support is optional, not in the `run` extra)
        import pyarrow  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"reading the Parquet file {str(path)!r} needs pandas and pyarrow: pip install pandas pyarrow "
            "(or convert the data to CSV)"
        ) from error
    frame = pandas.read_parquet(path)
    return {str(name): frame[name].to_numpy() for name in frame.columns}


def _columns_to_arrays(columns: dict[str, np.ndarray], data_section: dict, where: str):
    target_name = data_section.get("target")
    if not target_name:
        raise ValueError(f"{where}: set `data.target` to the label column (columns: {', '.join(columns)})")
    split_name = data_section.get("split_column")
    for role, name in (("data.target", target_name), ("data.split_column", split_name)):
        if name and name not in columns:
            raise ValueError(f"{where}: {role} column {name!r} is not in the header (columns: {', '.join(columns)})")
    feature_names = data_section.get("features") or [n for n in columns if n not in (target_name, split_name)]
    missing = [name for name in feature_names if name not in columns]
    if missing:
        raise ValueError(f"{where}: feature column(s) {', '.join(missing)} not in the header (columns: {', '.join(columns)})")
    if not feature_names:
        raise ValueError(f"{where}: no feature columns (every column is the target or the split column)")
    features = np.column_stack([_numeric_column(columns[name], name, where) for name in feature_names])
    target = columns[target_name]
    split = columns[split_name].astype(str) if split_name else None
    # Rows are numbered from 0 in file order: the ids predictions are matched by.
    return features, target, np.arange(len(target), dtype=np.int64), split


def _numeric_column(values: np.ndarray, name: str, where: str) -> np.ndarray:
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or not np.isfinite(numbers).all():
        for row, value in enumerate(values):
            try:
                bad = not np.isfinite(float(value))
            except (TypeError, ValueError):
                bad = True
            if bad:
                raise ValueError(
                    f"{where}: column {name!r}, data row {row + 1}: {str(value)!r} is not a finite number "
                    "(impute missing values and encode categories before training, or list the numeric "
                    "columns in `data.features`)"
                ) from None
    return numbers


def _load_callable(source: str, data_section: dict, base_dir: Path):
    function = resolve_callable(source, base_dir)
    with importable_from(base_dir):
        result = function(**(data_section.get("params") or {}))
    ids = split = None
    if isinstance(result, dict):
        unknown = set(result) - {"features", "target", "ids", "split"}
        if "features" not in result or "target" not in result or unknown:
            raise TypeError(
                f"{source} returned a dict with keys {sorted(result)}; expected 'features' and 'target' "
                "(optionally 'ids' and 'split')"
            )
        features, target, ids, split = result["features"], result["target"], result.get("ids"), result.get("split")
    elif isinstance(result, (tuple, list)) and len(result) == 2:
        features, target = result
    else:
        raise TypeError(
            f"{source} returned {type(result).__name__}; a data source returns (features, target) "
            "or a dict {'features': ..., 'target': ...[, 'ids': ...][, 'split': ...]}"
        )
    features = _as_numpy(features, "features", source)
    if ids is None:
        ids = np.arange(len(features), dtype=np.int64)
    if data_section.get("split_column") and split is None:
        raise ValueError(
            f"{source}: `data.split_column` is set but the source returned no 'split'; return "
            "{'features', 'target', 'split'} or remove `data.split_column`"
        )
    return features, _as_numpy(target, "target", source), np.asarray(ids), split


def _as_numpy(value: Any, name: str, source: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as error:  # noqa: BLE001 - whatever the object, the user needs to know which one
        raise TypeError(f"{source}: {name} cannot be converted to a NumPy array: {error}") from error


def _make_dataset(features, target, ids, split, task: str, source: str) -> Dataset:
    features = np.asarray(features)
    if features.ndim == 1:
        features = features.reshape(-1, 1)  # one feature per example
    if features.ndim < 2 or len(features) == 0:
        raise ValueError(f"{source}: features have shape {features.shape}; expected [n_examples, n_features] with n > 0")
    try:
        features = np.ascontiguousarray(features, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source}: features are not numeric ({error}); encode them as numbers first") from error
    target = np.asarray(target)
    ids = np.asarray(ids)
    lengths = {"features": len(features), "target": len(target), "ids": len(ids)}
    if split is not None:
        split = np.asarray(split).astype(str)
        lengths["split"] = len(split)
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{source}: lengths differ: " + ", ".join(f"{k} {v}" for k, v in lengths.items()))
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"{source}: example ids repeat; each example needs a unique id")
    classes = None
    if task == "classification":
        if target.ndim != 1:
            raise ValueError(f"{source}: a classification target must be one label per example, got shape {target.shape}")
        target = _numeric_if_possible(target)
        # Sorted unique labels -> ids 0..K-1: the same encoding whatever order the rows come in.
        classes, target = np.unique(target, return_inverse=True)
        target = target.astype(np.int64)
    elif task == "regression":
        try:
            target = np.ascontiguousarray(target, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: a regression target must be numeric ({error})") from error
        if not np.isfinite(target).all():
            raise ValueError(f"{source}: the regression target has missing or infinite values")
    version = content_version(features, target, split)
    return Dataset(features=features, target=target, ids=ids, version=version, classes=classes, split=split)


def _numeric_if_possible(labels: np.ndarray) -> np.ndarray:
    # CSV labels arrive as text; "10" must sort after "9", so numbers are compared as numbers.
    if labels.dtype.kind in "US":
        try:
            numbers = labels.astype(np.float64)
        except ValueError:
            return labels
        return numbers.astype(np.int64) if np.all(numbers == np.round(numbers)) else numbers
    return labels


# --- splitting -------------------------------------------------------------------------------------


def split_indices(*args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
    """Indices of the train/val/test splits, deterministic for a seed.

    Two call forms (the runtime contract's and the target-first one):

    * ``split_indices(n, target, splits, seed, stratify=False, split_column_values=None)``
    * ``split_indices(target, splits, seed, stratify=False, split_column_values=None)``

    Inputs: ``n``, the number of examples (defaults to ``len(target)``); ``target``, the labels
    (needed to stratify; may be None otherwise); ``splits``, fractions ``{"train", "val", "test"}``
    summing to 1 (``val``/``test`` may be 0); ``seed``, the split seed (``data.split_seed``);
    ``stratify``, keep class proportions in every split; ``split_column_values``, the predefined split
    name of each example (``Dataset.split``): when given, it decides the splits and the fractions,
    seed and stratification are not used.
    Output: ``{"train", "val", "test"}`` -> sorted int64 indices; disjoint, together covering every
    example; a split with fraction 0 is empty. A split's size is its fraction of all examples,
    rounded (at least one example for a positive fraction); train takes the rest. Test is carved out
    first, then val from the rest (scikit-learn's ``train_test_split`` with whole counts, twice).
    Errors: ValueError for fractions that do not sum to 1, stratification without a target or with a
    class too small to appear in every split, a split name outside train/val/test, or an empty train
    split.
    """
    if "n" in kwargs or (args and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool)):
        return _split_indices(*args, **kwargs)
    return _split_indices_target_first(*args, **kwargs)


def _split_indices_target_first(target, splits, seed=0, stratify=False, split_column_values=None):
    if target is None:
        raise ValueError("split_indices(target, ...) needs the target (or call split_indices(n, target, ...))")
    return _split_indices(len(target), target, splits, seed, stratify, split_column_values)


def _split_indices(n, target=None, splits=None, seed=0, stratify=False, split_column_values=None):
    n = int(n)
    if split_column_values is not None:
        return _predefined_splits(np.asarray(split_column_values).astype(str), n)
    splits = dict(splits or {})
    fractions = {name: float(splits.get(name, 0.0)) for name in SPLITS}
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split name(s) {sorted(unknown)}; splits are {', '.join(SPLITS)}")
    if abs(sum(fractions.values()) - 1.0) > 1e-6 or min(fractions.values()) < 0 or fractions["train"] <= 0:
        raise ValueError(f"split fractions must be non-negative, train > 0, and sum to 1; got {fractions}")
    labels = None
    if stratify:
        if target is None:
            raise ValueError("stratify=True needs the target labels")
        labels = np.asarray(target)
        if len(labels) != n:
            raise ValueError(f"target has {len(labels)} labels for {n} examples")

    from sklearn.model_selection import train_test_split  # imported here: only splitting needs it

    def carve(pool: np.ndarray, count: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        try:
            rest, part = train_test_split(
                pool, test_size=count, random_state=seed, shuffle=True, stratify=None if labels is None else labels[pool]
            )
        except ValueError as error:
            raise ValueError(
                f"cannot carve the {name} split ({count} of {len(pool)} examples): {error} "
                "(use larger split fractions or more data, or set data.stratify: false)"
            ) from error
        return rest, part

    # Whole counts of all n examples, rounded half up (and at least one for a positive fraction):
    # fractions of what is left after test would round twice and drift with float noise.
    counts = {name: max(1, math.floor(fractions[name] * n + 0.5)) if fractions[name] > 0 else 0 for name in ("val", "test")}
    if n - counts["val"] - counts["test"] < 1:
        raise ValueError(f"{n} examples leave none for training after val {counts['val']} and test {counts['test']}")
    pool = np.arange(n, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    test = val = empty
    if counts["test"]:
        pool, test = carve(pool, counts["test"], "test")
    if counts["val"]:
        pool, val = carve(pool, counts["val"], "val")
    return {"train": np.sort(pool), "val": np.sort(val), "test": np.sort(test)}


def _predefined_splits(values: np.ndarray, n: int) -> dict[str, np.ndarray]:
    if len(values) != n:
        raise ValueError(f"the split column has {len(values)} values for {n} examples")
    unknown = sorted(set(values.tolist()) - set(SPLITS))
    if unknown:
        raise ValueError(f"the split column holds {unknown[:5]}; its values must be one of {', '.join(SPLITS)}")
    result = {name: np.flatnonzero(values == name).astype(np.int64) for name in SPLITS}
    if len(result["train"]) == 0:
        raise ValueError("the split column marks no example as 'train'")
    return result


# --- scaling ---------------------------------------------------------------------------------------


def standardize(train_features: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise features with the training split's mean and standard deviation.

    The statistics come from ``train_features`` alone: computing them on all the data would leak
    the validation/test distribution into training. A constant feature (std 0, e.g. a digits pixel
    that is always blank) is divided by 1 instead of 0.
    Inputs: the training features ``[n, ...]`` and any other arrays of the same feature shape.
    Output: ``(mean, std, train_transformed, *others_transformed)``, all float32: one transformed
    array per input, in order (pass the training features once: ``standardize(train, val, test)``).
    Errors: ValueError for an empty training array or mismatched feature shapes.
    """
    train = np.asarray(train_features, dtype=np.float64)
    if len(train) == 0:
        raise ValueError("standardize needs at least one training example")
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    transformed = []
    for array in (train_features, *others):
        array = np.asarray(array, dtype=np.float64)
        if array.shape[1:] != mean.shape:
            raise ValueError(f"feature shape {array.shape[1:]} differs from the training features' {mean.shape}")
        transformed.append(((array - mean) / std).astype(np.float32))
    return (mean.astype(np.float32), std.astype(np.float32), *transformed)


# --- loaders ---------------------------------------------------------------------------------------


def make_loader(*args: Any, **kwargs: Any) -> DataLoader:
    """A reproducible DataLoader over some examples, yielding ``(features, target, index)`` batches.

    Two call forms (the runtime contract's and the arrays one):

    * ``make_loader(dataset, indices, batch_size, shuffle, seed, num_workers=0, drop_last=False, pin_memory=False)``
    * ``make_loader(features, target, indices, *, batch_size, shuffle, seed, num_workers=0, drop_last=False, pin_memory=False)``

    Inputs: a :class:`Dataset` (or ``features`` and ``target`` arrays); ``indices``, which examples
    (positions in the dataset; None for all); ``batch_size``; ``shuffle``, reshuffle every epoch;
    ``seed``, the data seed; ``num_workers``; ``drop_last``; ``pin_memory`` (True, False, or ``"auto"``:
    pin when CUDA is available).
    Output: a DataLoader over a TensorDataset of float32 features, the target (its dtype kept) and
    each example's position in the dataset (int64), so predictions can be matched to ``ids[index]``.
    Reproducibility: the loader always has its own generator seeded with ``seed`` (the shuffling
    order and the workers' base seeds come from it, never from the global torch RNG, so evaluation
    loaders do not shift the training stream) and seeds workers with :func:`worker_init_fn`. The same
    seed gives the same batches in every epoch sequence; ``loader.generator.get_state()`` taken
    before an epoch and restored with ``set_state`` replays that epoch's order (mid-epoch resume).
    Errors: ValueError for a batch size below 1 or indices out of range; TypeError for a wrong call.
    """
    first = args[0] if args else kwargs.get("dataset")
    if "dataset" in kwargs or (hasattr(first, "features") and hasattr(first, "target")):
        return _loader_from_dataset(*args, **kwargs)
    return _loader_from_arrays(*args, **kwargs)


def _loader_from_dataset(
    dataset, indices=None, batch_size=64, shuffle=False, seed=0, num_workers=0, drop_last=False, pin_memory=False
):
    return _loader_from_arrays(
        dataset.features,
        dataset.target,
        indices,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        num_workers=num_workers,
        drop_last=drop_last,
        pin_memory=pin_memory,
    )


def _loader_from_arrays(
    features,
    target,
    indices=None,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    num_workers: int = 0,
    drop_last: bool = False,
    pin_memory: bool | str = False,
) -> DataLoader:
    features = np.asarray(features)
    target = np.asarray(target)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    positions = np.arange(len(target), dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(positions) and (positions.min() < 0 or positions.max() >= len(target)):
        raise ValueError(f"indices must lie in [0, {len(target)}); got {positions.min()}..{positions.max()}")
    tensors = TensorDataset(
        torch.from_numpy(np.ascontiguousarray(features[positions], dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(target[positions])),
        torch.from_numpy(positions.copy()),
    )
    if pin_memory == "auto":
        pin_memory = torch.cuda.is_available()
    return DataLoader(
        tensors,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        drop_last=drop_last,
        pin_memory=bool(pin_memory),
        worker_init_fn=worker_init_fn,
        generator=make_generator(seed),
    )

