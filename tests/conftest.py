"""Shared fixtures: where ../shared is, a tiny real model, small real data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.environment import shared_folder

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CLASSMOOD_AUDIT_KEY", "the tests' audit key")  # no key file in the runner's home

# The tests' caches (FER2013 parsed once per run, 85 MB) live and go with the run, not in ~/.cache
CACHE = Path(tempfile.mkdtemp(prefix="classmood-test-cache-"))
os.environ["XDG_CACHE_HOME"] = str(CACHE)

ROOT = Path(__file__).resolve().parents[1]
SHARED = shared_folder()


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs {relative} from the shared data folder ({SHARED}); set CLASSMOOD_SHARED")
    return path


@pytest.fixture(scope="session")
def fer_csv() -> Path:
    return shared_file("data/fer2013/fer2013.csv.gz")


@pytest.fixture(scope="session")
def ferplus_csv() -> Path:
    return shared_file("data/fer2013/fer2013new.csv")


@pytest.fixture(scope="session")
def yunet_file() -> Path:
    return shared_file("models/face_detection_yunet_2026may.onnx")


@pytest.fixture(scope="session")
def wild_faces() -> list[tuple[Path, str]]:
    import csv

    labels = shared_file("data/wild_faces/labels_min48px.csv")
    with open(labels) as f:
        return [(labels.parent / row["path"], row["emotion"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="session")
def fer_small(fer_csv):
    """The first 200 rows of each split, parsed by the product's own reader."""
    from training.fer2013 import parse_csv

    return parse_csv(fer_csv, limit_per_usage=200)


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """A real (untrained, tiny) model saved through the product's save path."""
    import keras

    from core.model import Contract, make_model, save_model

    keras.utils.set_random_seed(0)
    model = make_model(widths=(4, 8, 8, 8), dense=8)
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny.keras", Contract(model_version="test"))


@pytest.fixture()
def yunet_env(yunet_file, monkeypatch):
    monkeypatch.setenv("CLASSMOOD_YUNET", str(yunet_file))
    return yunet_file


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session (skipped with the reason where none can start)."""
    from tests.postgres import postgres_server

    try:
        with postgres_server() as url:
            yield url
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database of each kind, schema not yet created."""
    from sqlalchemy import inspect

    from db.engine import downgrade, make_engine

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    if "alembic_version" in inspect(engine).get_table_names():
        downgrade(url, "base")
    engine.dispose()
    return url


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CACHE, ignore_errors=True)
