"""The few functions everything else calls: read an image, find its faces, name their emotions.

image = read_image("gallery.png")
for face in analyze_image(image):
    print(face.box, face.emotion.top, face.emotion.score)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.emotions import Emotion, EmotionClassifier, default_classifier
from core.faces import Face, FaceDetector, crop_face, default_detector
from core.head_pose import HeadPose, HeadPoseReader

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
MIN_FACE_PX = 24


class InputError(ValueError):
    """An input file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class FaceEmotion:
    box: tuple[int, int, int, int]
    detector_score: float
    emotion: Emotion | None  # None: no expression read (--signals attention)
    pose: HeadPose | None = None  # None: not asked for, or a flat crop


def read_image(path: str | os.PathLike) -> np.ndarray:
    """BGR image from a file, or InputError saying why not (missing, empty, not an image)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = np.fromfile(path, dtype=np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as exc:  # e.g. more pixels than OpenCV's CV_IO_MAX_IMAGE_PIXELS allows
        reason = str(exc).strip().splitlines()[-1][:160]
        raise InputError(f"{path}: cannot be decoded ({reason})") from None
    if image is None:
        raise InputError(f"{path}: not a readable image (corrupt or unsupported format)")
    return image


def iter_video(path: str | os.PathLike, every_seconds: float = 1.0) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds, BGR frame) pairs sampled every `every_seconds` of video time."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    capture = cv2.VideoCapture(str(path))
    try:
        ok, frame = capture.read() if capture.isOpened() else (False, None)
        if not ok:
            raise InputError(f"{path}: not a readable video (corrupt or unsupported codec)")
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, int(round(fps * every_seconds)))
        index = 0
        while ok:
            if index % step == 0:
                yield index / fps, frame
            ok, frame = capture.read()
            index += 1
    finally:
        capture.release()


def find_faces(image: np.ndarray, detector: FaceDetector | None = None, min_size: int = MIN_FACE_PX) -> list[Face]:
    """Faces at least `min_size` px on their shorter side, best first."""
    detector = detector or _default_detector()
    faces = [f for f in detector.detect(image) if min(f.box[2], f.box[3]) >= min_size]
    return sorted(faces, key=lambda f: -f.score)


def face_crops(image: np.ndarray, faces: list[Face], size: int, margin: float) -> np.ndarray:
    if not faces:
        return np.zeros((0, size, size), np.uint8)
    return np.stack([crop_face(image, f.box, size, margin) for f in faces])


def crop_size(*models) -> int:
    """The crop side the first model given asks for (the emotion CNN, else the head pose net):
    one crop serves both. 48 when neither reads anything."""
    return next((m.input_size for m in models if m is not None), 48)


def analyze_image(
    image: np.ndarray,
    detector: FaceDetector | None = None,
    classifier: EmotionClassifier | None = None,
    poser: HeadPoseReader | None = None,
    emotions: bool = True,
) -> list[FaceEmotion]:
    """Every face in the image with its emotion probabilities (one batched forward pass) and,
    given a `poser`, its head pose. `emotions=False` reads no expression at all."""
    detector = detector or _default_detector()
    classifier = (classifier or default_classifier()) if emotions else None
    faces = find_faces(image, detector)
    crops = face_crops(image, faces, crop_size(classifier, poser), getattr(detector, "crop_margin", 0.0))
    read = classifier.classify(crops) if classifier else [None] * len(faces)
    poses = poser.read(crops) if poser else [None] * len(faces)
    return [FaceEmotion(f.box, f.score, e, p) for f, e, p in zip(faces, read, poses)]


def annotate(image: np.ndarray, results: list[FaceEmotion]) -> np.ndarray:
    """A copy of the image with each face boxed and labelled 'emotion 0.87'."""
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 600))
    for face in results:
        x, y, w, h = face.box
        color = EMOTION_COLORS[face.emotion.top] if face.emotion else POSE_COLOR
        cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
        label = f"{face.emotion.top} {face.emotion.score:.2f}" if face.emotion else ""
        if face.pose:
            label += f" {face.pose.looking()} ({face.pose.yaw:+.0f}/{face.pose.pitch:+.0f})"
        label = label.strip() or "face"
        scale = max(0.4, w / 160)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(0, y - th - base - 2)
        cv2.rectangle(out, (x, top), (x + tw + 2, top + th + base + 2), color, -1)
        cv2.putText(out, label, (x + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness)
    return out


# BGR, colour-blind-friendly (Okabe-Ito); the dashboard uses the same hues.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (0, 94, 213),
    "disgust": (115, 158, 0),
    "fear": (167, 121, 204),
    "happy": (66, 228, 240),
    "sad": (178, 114, 0),
    "surprise": (0, 159, 230),
    "neutral": (180, 180, 180),
}
POSE_COLOR = (255, 255, 255)  # a face read for its pose only

_detector: FaceDetector | None = None


def _default_detector() -> FaceDetector:
    global _detector
    if _detector is None:
        _detector = default_detector()
    return _detector
