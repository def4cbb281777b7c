"""ENV001 cuda-pinned-in-image: the container image's tag names the CUDA version."""

from __future__ import annotations

import re

from ...compiler.diagnostics import Severity
from ..base import BASE, Invalid, RuleDoc, SpecRule

_PATH = ("environment", "image")
#: Tags that pin CUDA: `...-cuda12.1-...`, `...-cu121`, NVIDIA NGC releases (`24.01-py3`: each monthly
#: release fixes its CUDA version), and `nvidia/cuda:12.1.0-...` (the tag *is* the CUDA version).
_CUDA_TAG = re.compile(r"cuda\d|(^|[^a-z])cu\d{3}|\d\d\.\d\d-py3", re.IGNORECASE)
_CUDA_REPOSITORY_TAG = re.compile(r"\d+\.\d+")


def image_tag(image: str) -> tuple[str, str | None, bool]:
    """``(repository, tag or None, pinned by digest)`` of an image reference such as
    ``registry:5000/org/name:tag@sha256:...``."""
    reference, _, digest = image.partition("@")
    repository, _, last = reference.rpartition("/")
    name, colon, tag = last.partition(":")
    return (f"{repository}/{name}" if repository else name), (tag if colon else None), bool(digest)


def pins_cuda(image: str) -> bool:
    """Whether ``image`` fixes its CUDA version: by a tag that names it, or by an immutable digest."""
    repository, tag, by_digest = image_tag(image.strip())
    if tag is None:
        return by_digest
    if repository.rsplit("/", 1)[-1] == "cuda" and _CUDA_REPOSITORY_TAG.match(tag):
        return True
    return _CUDA_TAG.search(tag) is not None


class CudaPinnedInImage(SpecRule):
    code = "ENV001"
    name = "cuda-pinned-in-image"
    severity = Severity.WARNING
    message = "Pin CUDA version in Docker image tag, not just PyTorch version"
    doc = RuleDoc(
        what="Flags an `environment.image` whose tag does not name a CUDA version (`pytorch/pytorch:latest`, "
        "`pytorch/pytorch:2.3.1`), or that has no tag at all (which means `:latest`). Tags naming CUDA "
        "(`cuda12.1`, `cu121`), NVIDIA NGC releases (`nvcr.io/nvidia/pytorch:24.01-py3`), `nvidia/cuda:12.1.0-...` "
        "and digest-pinned images (`@sha256:...`) pass. Specs with `environment.cuda: none` (CPU-only) are not "
        "checked.",
        why="The domain document's environment locking: 'Pin CUDA version in Docker image tag, not just "
        "PyTorch version'. One PyTorch release ships builds for several CUDA versions, and a moving tag such as "
        "`latest` changes under you; the CUDA and cuDNN versions pick the kernels, and so the numbers.",
        example="environment:\n  image: pytorch/pytorch:2.3.1",
        instead="environment:\n  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
        reference="Reproducibility > Environment Locking: 'Pin CUDA version in Docker image tag, not just "
        "PyTorch version'",
        fix="none",
        notes=(
            "An image pinned by digest (`image@sha256:...`) is immutable, so its CUDA version is fixed even when "
            "the tag does not show it; the rule accepts it.",
            "No fix: rigorml does not query registries to find the tag that matches.",
        ),
    )
    VALID = (
        BASE,
        BASE + "environment:\n  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\n",
        BASE + "environment:\n  image: nvcr.io/nvidia/pytorch:24.01-py3\n",
        BASE + "environment:\n  image: nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu22.04\n",
        BASE + "environment:\n  image: registry.example.com:5000/ml/train:torch2.3-cu121\n",
        BASE + "environment:\n  cuda: none\n  image: python:3.11-slim\n",
    )
    INVALID = (
        Invalid(BASE + "environment:\n  image: pytorch/pytorch:latest\n", line=10, col=10, message="Pin CUDA version"),
        Invalid(BASE + "environment:\n  image: pytorch/pytorch:2.3.1\n", line=10, col=10, message="cuda12.1"),
        Invalid(
            BASE + "environment:\n  image: registry.example.com:5000/ml/train\n", line=10, col=10, message="no tag"
        ),
    )

    def check(self, ctx):
        environment = ctx.spec.environment
        image = environment.image
        if image is None or environment.cuda == "none" or pins_cuda(image):
            return
        _, tag, _ = image_tag(image.strip())
        problem = "has no tag (it means `:latest`)" if tag is None else f"tag `{tag}` does not name a CUDA version"
        yield self.at(
            ctx,
            _PATH,
            f"image `{image}` {problem}: Pin CUDA version in Docker image tag, not just PyTorch version, e.g. "
            "`pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime` or `nvcr.io/nvidia/pytorch:24.01-py3`",
        )
