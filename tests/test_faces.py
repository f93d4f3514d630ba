"""Face detection on real photos (wild_faces), and YuNet's download with its offline fallback."""

import hashlib
import http.server
import threading
from functools import partial

import numpy as np
import pytest

from core import faces
from core.analyze import find_faces, read_image

SAMPLE = 60


def evenly(items, n):
    step = max(1, len(items) // n)
    return items[::step][:n]


def test_yunet_finds_faces_in_real_photos(wild_faces, yunet_env):
    detector = faces.YuNetDetector()
    sample = evenly(wild_faces, SAMPLE)
    found = sum(bool(find_faces(read_image(path), detector)) for path, _ in sample)
    assert found / len(sample) >= 0.9, f"YuNet found faces in {found}/{len(sample)} photos"


def test_yunet_finds_small_faces(wild_faces, yunet_env):
    """Faces of ~32 px, as in a 5x5 gallery of a 1080p screen, are still found."""
    import cv2

    detector = faces.YuNetDetector()
    sample = evenly(wild_faces, 20)
    found = 0
    for path, _ in sample:
        image = read_image(path)
        scale = 64 / image.shape[0]  # the face fills about half of these photos: ~32 px
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((240, 320, 3), 40, np.uint8)
        canvas[80 : 80 + small.shape[0], 100 : 100 + small.shape[1]] = small
        found += bool(detector.detect(canvas))
    assert found / len(sample) >= 0.8, f"{found}/{len(sample)} small faces found"


@pytest.mark.slow
def test_mtcnn_fallback_finds_faces(wild_faces):
    detector = faces.MtcnnDetector()
    sample = evenly(wild_faces, 10)
    found = sum(bool(find_faces(read_image(path), detector)) for path, _ in sample)
    assert found >= 8


def test_no_face_in_a_blank_image(yunet_env):
    assert faces.YuNetDetector().detect(np.full((300, 400, 3), 127, np.uint8)) == []


@pytest.fixture()
def model_server(yunet_file, tmp_path):
    """A real local HTTP server serving the YuNet file and a wrong file."""
    (tmp_path / "yunet.onnx").write_bytes(yunet_file.read_bytes())
    (tmp_path / "wrong.onnx").write_bytes(b"not a model")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture()
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("CLASSMOOD_YUNET", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "classmood"


def test_download_verifies_and_caches(model_server, empty_cache, monkeypatch):
    monkeypatch.setenv("CLASSMOOD_YUNET_URL", f"{model_server}/yunet.onnx")
    path = faces.yunet_model_path()
    assert path == empty_cache / faces.YUNET_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == faces.YUNET_SHA256
    monkeypatch.setenv("CLASSMOOD_YUNET_URL", "http://127.0.0.1:9/unreachable")
    assert faces.yunet_model_path() == path  # served from the cache, no network needed


def test_download_with_wrong_checksum_leaves_nothing(model_server, empty_cache, monkeypatch):
    monkeypatch.setenv("CLASSMOOD_YUNET_URL", f"{model_server}/wrong.onnx")
    with pytest.raises(faces.DetectorUnavailable, match="sha256"):
        faces.yunet_model_path()
    assert not list(empty_cache.glob("*")) if empty_cache.exists() else True


@pytest.mark.slow
def test_offline_falls_back_to_mtcnn_and_says_so_in_one_line(empty_cache, monkeypatch, caplog):
    monkeypatch.setenv("CLASSMOOD_YUNET_URL", "http://127.0.0.1:9/unreachable")
    with caplog.at_level("WARNING", logger="core.faces"):
        detector = faces.default_detector()
    assert detector.name == "mtcnn"
    (said,) = [r.getMessage() for r in caplog.records if r.name == "core.faces"]
    assert "\n" not in said and "CLASSMOOD_YUNET" in said and faces.YUNET_FILE in said and "slower" in said
