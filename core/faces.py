"""Find faces in an image and cut them out the way the classifier was trained to see them.

Two back-ends behind one small interface:
- YuNet (`cv2.FaceDetectorYN`): fast and finds faces from about 10 px; its 230 kB ONNX file is
  downloaded once into the user's cache, checked against a pinned sha256.
- MTCNN (the `mtcnn` package, weights inside its wheel): the offline fallback when YuNet's
  file is neither cached nor downloadable.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from core.quiet import import_keras_quietly, verbose

logger = logging.getLogger(__name__)

YUNET_FILE = "face_detection_yunet_2026may.onnx"
YUNET_SHA256 = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
YUNET_URL = f"https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/{YUNET_FILE}"


class DetectorUnavailable(RuntimeError):
    """No face detector could be set up; the message says what to do."""


@dataclass(frozen=True)
class Face:
    """A detected face: box as (x, y, w, h) in image pixels, detector confidence in 0..1."""

    box: tuple[int, int, int, int]
    score: float


class FaceDetector(Protocol):
    name: str
    crop_margin: float  # grows this detector's boxes to FER2013's framing (see square_box)

    def detect(self, image: np.ndarray) -> list[Face]: ...


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "classmood"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download_verified(url: str, dest: Path, sha256: str, timeout: float = 20.0) -> Path:
    """Download `url` to `dest` only if its sha256 matches; never leaves a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        payload = response.read()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise DetectorUnavailable(f"download from {url} has sha256 {digest[:12]}…, expected {sha256[:12]}…")
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(payload)
    os.replace(tmp, dest)
    return dest


def yunet_model_path(download: bool = True) -> Path:
    """$CLASSMOOD_YUNET if set, else the cached copy, else a verified download."""
    explicit = os.environ.get("CLASSMOOD_YUNET")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise DetectorUnavailable(f"CLASSMOOD_YUNET={explicit} is not a file")
        return path
    cached = cache_dir() / YUNET_FILE
    if cached.is_file() and sha256_of(cached) == YUNET_SHA256:
        return cached
    if not download:
        raise DetectorUnavailable(f"YuNet model not cached at {cached}")
    url = os.environ.get("CLASSMOOD_YUNET_URL", YUNET_URL)
    try:
        return download_verified(url, cached, YUNET_SHA256)
    except OSError as exc:
        raise DetectorUnavailable(f"cannot download YuNet from {url} ({exc})") from None


class YuNetDetector:
    name = "yunet"
    # On 600 PublicTest faces YuNet's box is ~40x49 px of the 48x48 frame, centred: the
    # square on its longer side already is FER2013's framing.
    crop_margin = 0.0

    def __init__(self, model_path: Path | None = None, score_threshold: float = 0.6, nms_threshold: float = 0.3):
        path = model_path or yunet_model_path()
        self._settings = (path, score_threshold, nms_threshold)
        opencv_log = cv2.utils.logging
        level = opencv_log.getLogLevel()
        if not verbose():  # -v shows OpenCV's "graph engine" warning too
            opencv_log.setLogLevel(opencv_log.LOG_LEVEL_ERROR)
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold, 5000)
        except cv2.error as exc:
            raise DetectorUnavailable(f"{path} is not a usable YuNet model ({exc.msg.strip()})") from None
        finally:
            opencv_log.setLogLevel(level)

    def twin(self) -> YuNetDetector:
        """Another net of the same model, for another thread (a net is not shared between threads)."""
        return YuNetDetector(*self._settings)

    def detect(self, image: np.ndarray) -> list[Face]:
        bgr = as_bgr(image)
        h, w = bgr.shape[:2]
        self._net.setInputSize((w, h))
        _, found = self._net.detect(bgr)
        if found is None:
            return []
        return [Face(clip_box(row[:4], w, h), float(row[-1])) for row in found]


class MtcnnDetector:
    name = "mtcnn"
    # Measured like YuNet's (178 of 200 PublicTest faces found): box ~38x50, centred.
    crop_margin = 0.0

    def __init__(self, min_confidence: float = 0.9):
        try:
            if not verbose():  # -v shows TensorFlow's start-up lines
                import_keras_quietly()
            from mtcnn import MTCNN
        except ImportError as exc:
            raise DetectorUnavailable(f"the offline fallback needs the mtcnn package ({exc})") from None
        self._net = MTCNN()
        self.min_confidence = min_confidence

    def detect(self, image: np.ndarray) -> list[Face]:
        rgb = cv2.cvtColor(as_bgr(image), cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        found = self._net.detect_faces(rgb, min_face_size=20)
        return [
            Face(clip_box(f["box"], w, h), float(f["confidence"]))
            for f in found
            if f["confidence"] >= self.min_confidence
        ]


def default_detector(prefer: str = "auto") -> FaceDetector:
    """YuNet when its file can be had, otherwise MTCNN; `prefer` forces one ("yunet"/"mtcnn")."""
    if prefer == "mtcnn":
        return MtcnnDetector()
    try:
        return YuNetDetector()
    except DetectorUnavailable as exc:
        if prefer == "yunet":
            raise
        logger.warning(
            "face detection falls back to MTCNN, about 5x slower and with other boxes (%s): fetch %s from %s "
            "and point CLASSMOOD_YUNET to it",
            exc,
            YUNET_FILE,
            YUNET_URL,
        )
        return MtcnnDetector()


def as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def clip_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(width, int(round(x + w))), min(height, int(round(y + h)))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def square_box(box: tuple[int, int, int, int], margin: float) -> tuple[int, int, int, int]:
    """The square around a face box, grown by `margin` of its larger side on each side.

    FER2013 crops show the whole face with a little hair and chin around it; the margin is
    chosen so that detector boxes on FER2013 images reproduce that framing (see MODEL_CARD).
    """
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side))


def flat_crops(crops: np.ndarray, below: float) -> np.ndarray:
    """Which of (n, side, side) crops vary less than `below` (std of grey levels, 0-255): an
    all-black or frozen-dark video shows no face to read."""
    return crops.reshape(len(crops), -1).std(axis=1) < below


def crop_face(image: np.ndarray, box: tuple[int, int, int, int], size: int = 48, margin: float = 0.25) -> np.ndarray:
    """Square, margin, grayscale, resize: the crop the classifier expects (uint8, size x size).

    Parts of the square outside the image are filled by replicating the border, as the
    training augmentation does, rather than with black bars the model never saw.
    """
    x, y, s, _ = square_box(box, margin)
    h, w = image.shape[:2]
    x0, y0 = min(max(0, x), w - 1), min(max(0, y), h - 1)
    patch = image[y0 : max(y0 + 1, min(h, y + s)), x0 : max(x0 + 1, min(w, x + s))]  # only the face is made grey
    patch = patch if patch.ndim == 2 else cv2.cvtColor(as_bgr(patch), cv2.COLOR_BGR2GRAY)
    top, left = y0 - y, x0 - x
    bottom, right = s - top - patch.shape[0], s - left - patch.shape[1]
    if top or left or bottom > 0 or right > 0:
        patch = cv2.copyMakeBorder(patch, top, max(0, bottom), left, max(0, right), cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if s > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interpolation)
