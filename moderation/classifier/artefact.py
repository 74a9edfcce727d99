"""Writing and safely reading the model artefact (``models/<version>/model.skops``).

Why skops with an explicit allow-list and a checksum: a pickle (or joblib) file runs arbitrary
code when loaded, and model files travel between machines. skops only instantiates types it is
told to trust; we trust exactly the scikit-learn classes this package writes, and refuse a file
that needs anything else. The manifest's sha256 catches a truncated or swapped file before any
parsing happens.

Layout::

    models/CURRENT                      one line: the version in service
    models/<version>/model.skops        vectoriser + one calibrated classifier per learned rule
    models/<version>/manifest.json      sha256 and size of model.skops, versions, training info
    models/<version>/metrics.json       held-out metrics
    models/<version>/MODEL_CARD.md
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from moderation.classifier.types import ModelIntegrityError

__all__ = [
    "ARTEFACT_NAME",
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "default_model_dir",
    "load_artefact",
    "read_current_version",
    "sha256_file",
    "write_artefact",
]

ARTEFACT_NAME = "model.skops"
MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Every non-builtin type the artefact may contain. skops already trusts most scikit-learn
# estimators and numpy types; whatever it does not trust must appear here or loading fails.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.feature_extraction.text.HashingVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
        "moderation.classifier.features.lexicon_features",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.model_selection._split.StratifiedKFold",
        "numpy.float32",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "numpy.dtype",
    }
)


def default_model_dir() -> Path:
    """``$MODERATION_MODEL_DIR``, else the repository's ``models/`` next to this package."""
    env = os.environ.get("MODERATION_MODEL_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_artefact(payload: dict[str, Any], version_dir: Path) -> tuple[str, int]:
    """Serialise ``payload`` to ``version_dir/model.skops``; return (sha256, bytes)."""
    import skops.io as sio

    version_dir.mkdir(parents=True, exist_ok=True)
    path = version_dir / ARTEFACT_NAME
    sio.dump(payload, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    return sha256_file(path), path.stat().st_size


def read_current_version(model_dir: Path) -> str:
    current = model_dir / "CURRENT"
    try:
        version = current.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise ModelIntegrityError(f"no model installed: {current} does not exist") from exc
    if not _VERSION_RE.match(version):
        raise ModelIntegrityError(f"{current} holds an invalid version string {version!r}")
    return version


def read_manifest(version_dir: Path) -> dict[str, Any]:
    path = version_dir / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"unreadable manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ModelIntegrityError(f"manifest {path} has no sha256")
    return manifest


def load_artefact(
    model_dir: Path, version: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify and load the current (or the named) artefact; returns (payload, manifest).

    Raises :class:`ModelIntegrityError` if CURRENT, the manifest or the checksum is wrong, or
    if the file asks for a type outside :data:`TRUSTED_TYPES`.
    """
    import skops.io as sio

    if version is None:
        version = read_current_version(model_dir)
    elif not _VERSION_RE.match(version):
        raise ModelIntegrityError(f"invalid version string {version!r}")
    version_dir = model_dir / version
    manifest = read_manifest(version_dir)
    path = version_dir / manifest.get("artefact", ARTEFACT_NAME)
    if path.name != ARTEFACT_NAME or not path.is_file():
        raise ModelIntegrityError(f"artefact {path} is missing")
    data = path.read_bytes()  # hash and parse the same bytes: no swap in between
    actual = hashlib.sha256(data).hexdigest()
    if actual != manifest["sha256"]:
        raise ModelIntegrityError(
            f"{path} sha256 {actual} does not match manifest {manifest['sha256']}"
        )
    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # a corrupt archive surfaces as zip/json errors
        raise ModelIntegrityError(f"{path} is not a readable skops file: {exc}") from exc
    refused = untrusted - TRUSTED_TYPES
    if refused:
        raise ModelIntegrityError(f"{path} contains untrusted types: {sorted(refused)}")
    payload = sio.loads(data, trusted=sorted(untrusted))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ModelIntegrityError(f"{path} is not a format-{FORMAT_VERSION} moderation model")
    if payload.get("version") != version:
        raise ModelIntegrityError(
            f"{path} is version {payload.get('version')!r}, expected {version!r}"
        )
    return payload, manifest
