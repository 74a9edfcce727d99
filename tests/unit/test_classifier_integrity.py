"""load_scorer refuses altered, mislabelled or untrusted artefacts."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from moderation.classifier import ModelIntegrityError, load_scorer

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture()
def models_copy(tmp_path: Path) -> tuple[Path, Path]:
    version = (MODELS / "CURRENT").read_text().strip()
    target = tmp_path / "models"
    target.mkdir()
    shutil.copytree(MODELS / version, target / version)
    (target / "CURRENT").write_text(version + "\n")
    return target, target / version


def test_a_clean_copy_loads(models_copy: tuple[Path, Path]) -> None:
    models_dir, version_dir = models_copy
    assert load_scorer(models_dir).version == version_dir.name


def test_env_variable_names_the_default_model_dir(
    models_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    models_dir, version_dir = models_copy
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(models_dir))
    assert load_scorer().version == version_dir.name


def test_a_changed_byte_is_refused(models_copy: tuple[Path, Path]) -> None:
    models_dir, version_dir = models_copy
    artefact = version_dir / "model.skops"
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_scorer(models_dir)


def test_missing_current_is_refused(models_copy: tuple[Path, Path]) -> None:
    models_dir, _ = models_copy
    (models_dir / "CURRENT").unlink()
    with pytest.raises(ModelIntegrityError, match="CURRENT"):
        load_scorer(models_dir)


@pytest.mark.parametrize("version", ["../models", "", "2026.11.99"])
def test_bad_or_unknown_version_is_refused(models_copy: tuple[Path, Path], version: str) -> None:
    models_dir, _ = models_copy
    (models_dir / "CURRENT").write_text(version)
    with pytest.raises(ModelIntegrityError):
        load_scorer(models_dir)


def test_untrusted_types_are_refused_even_with_a_valid_checksum(
    models_copy: tuple[Path, Path],
) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    models_dir, version_dir = models_copy
    hostile = {"format": 1, "version": version_dir.name, "x": FunctionTransformer(func=print)}
    artefact = version_dir / "model.skops"
    sio.dump(hostile, artefact)
    manifest_path = version_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(artefact.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="untrusted"):
        load_scorer(models_dir)
