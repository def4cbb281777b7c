"""Seeds: every source of randomness seeded, and one seed per concern.

Following the domain document ("Seed Management", "Per-Component Seeds", "DataLoader Determinism"):
:func:`seed_everything` seeds Python, NumPy and torch (CPU and CUDA) before anything else;
:class:`SeedConfig` keeps separate seeds for the data (split, shuffling, augmentation), the model
(weight initialisation) and training (dropout, sampling), so changing the split does not re-initialise
the model; :func:`worker_init_fn` and :func:`make_generator` make DataLoaders reproducible.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass

import numpy as np
import torch

#: NumPy's legacy seeding (``np.random.seed``) and DataLoader workers take 32-bit seeds.
_SEED_LIMIT = 2**32


def _check_seed(seed: int, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, not {type(seed).__name__}")
    if not 0 <= int(seed) < _SEED_LIMIT:
        raise ValueError(f"{what} must be in [0, 2**32), got {seed}")
    return int(seed)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU and every CUDA device).

    Call it before any data or model is created. ``PYTHONHASHSEED`` is set too; it only reaches
    processes started afterwards (DataLoader workers under ``spawn``, subprocesses), since the
    running interpreter fixed its hash seed at start-up.
    Input: ``seed``, an integer in [0, 2**32). Output: None.
    Errors: TypeError for a non-integer, ValueError outside the range.
    """
    seed = _check_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # manual_seed already seeds CUDA lazily; explicit for readers of the domain document's recipe.
    # It does not initialise CUDA when there is none.
    torch.cuda.manual_seed_all(seed)


def _derive(base: int, replicate: int) -> int:
    # SeedSequence hashes its entropy, so nearby inputs give unrelated seeds, and a component's
    # seed depends on its own base and the replicate only.
    return int(np.random.SeedSequence([base, replicate]).generate_state(1)[0])


@dataclass(frozen=True)
class SeedConfig:
    """The seeds of one run, one per concern.

    ``global_`` seeds Python/NumPy/torch first (:func:`seed_everything`); ``data`` seeds the split,
    shuffling and augmentation; ``model`` the weight initialisation; ``train`` dropout and sampling
    during training. All are integers in [0, 2**32).
    """

    global_: int
    data: int
    model: int
    train: int

    @classmethod
    def for_replicate(cls, seeds_section: dict, replicate: int) -> SeedConfig:
        """The seeds of replicate ``replicate``, each derived independently from its own base.

        Inputs: ``seeds_section``, the spec's ``seeds`` mapping (keys ``global``, ``data``, ``model``,
        ``train``; ``global_`` is accepted for ``global``); ``replicate``, a replicate seed (>= 0).
        Each component is ``SeedSequence([base, replicate]).generate_state(1)[0]``: changing
        ``seeds.data`` changes the data seed only, and every arm of a replicate shares its seeds
        (the pairing the statistics rely on).
        Output: a SeedConfig.
        Errors: ValueError when a base seed is missing or negative or ``replicate`` is negative;
        TypeError for non-integers.
        """
        _check_seed(replicate, "replicate")
        bases = {}
        for component in ("global", "data", "model", "train"):
            value = seeds_section.get(component, seeds_section.get(f"{component}_"))
            if value is None:
                raise ValueError(f"the seeds section has no {component!r} seed")
            bases[component] = _check_seed(value, f"seeds.{component}")
        return cls(
            global_=_derive(bases["global"], replicate),
            data=_derive(bases["data"], replicate),
            model=_derive(bases["model"], replicate),
            train=_derive(bases["train"], replicate),
        )

    def as_dict(self) -> dict[str, int]:
        """The seeds keyed as in the spec (``global``, ``data``, ``model``, ``train``), for logging."""
        values = asdict(self)
        values["global"] = values.pop("global_")
        return {key: values[key] for key in ("global", "data", "model", "train")}


def worker_init_fn(worker_id: int) -> None:
    """Seed NumPy and Python ``random`` inside a DataLoader worker (pass it as ``worker_init_fn``).

    torch seeds each worker's torch RNG from the loader's generator; NumPy and ``random`` would
    otherwise start from the state forked from the parent, identical in every worker. The seed is
    the domain document's ``torch.initial_seed() % 2**32 + worker_id`` (kept below 2**32).
    Input: ``worker_id``, the worker's index. Output: None.
    """
    seed = (torch.initial_seed() % _SEED_LIMIT + worker_id) % _SEED_LIMIT
    np.random.seed(seed)
    random.seed(seed)


def make_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (DataLoaders need a CPU generator).

    Output: the generator. Errors: as :func:`seed_everything` for a bad seed.
    """
    generator = torch.Generator()
    generator.manual_seed(_check_seed(seed))
    return generator
