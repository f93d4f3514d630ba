"""How a face looks in a meeting tile, applied to a 48x48 FER2013 crop: pure functions.

Meeting faces are small (17-60 px), video-coded, often badly lit and sometimes masked. Each
function takes a (side, side) uint8 image and returns a new one; the random ones take a
numpy Generator, so a seed fixes the result. Used by the "meeting" augmentation profile and by
`bench.degraded`.
"""

from __future__ import annotations

import cv2
import numpy as np


def downscaled(image: np.ndarray, face_px: int) -> np.ndarray:
    """The face as a `face_px`-pixel crop brought back to the model's input size."""
    side = image.shape[0]
    small = cv2.resize(image, (face_px, face_px), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Block-coded at `quality` (20-40 is what a video codec leaves of a small face)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else image.copy()


def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0 else image.copy()


def low_light(image: np.ndarray, rng: np.random.Generator, gain: float = 0.35, noise: float = 6.0) -> np.ndarray:
    """A dim room: the picture darkened to `gain`, with a webcam's sensor noise."""
    dark = image.astype(np.float32) * gain + rng.normal(0.0, noise, image.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)


def masked(image: np.ndarray, level: int = 200) -> np.ndarray:
    """A surgical mask over the lower face: from just below the nose to the chin."""
    side = image.shape[0]
    out = image.copy()
    top, bottom = int(0.58 * side), int(0.95 * side)
    points = np.array(
        [[int(0.18 * side), top], [int(0.82 * side), top], [int(0.72 * side), bottom], [int(0.28 * side), bottom]]
    )
    cv2.fillConvexPoly(out, points, int(level))
    return out


#: The conditions bench.degraded scores, each (name, function of (image, rng)).
CONDITIONS = {
    "clean": lambda img, rng: img.copy(),
    "20 px": lambda img, rng: downscaled(img, 20),
    "24 px": lambda img, rng: downscaled(img, 24),
    "28 px": lambda img, rng: downscaled(img, 28),
    "36 px": lambda img, rng: downscaled(img, 36),
    "jpeg q20-40": lambda img, rng: jpeg(img, int(rng.integers(20, 41))),
    "28 px + jpeg q30": lambda img, rng: jpeg(downscaled(img, 28), 30),
    "blur": lambda img, rng: blurred(img, 1.2),
    "low light": lambda img, rng: low_light(img, rng),
    "mask": lambda img, rng: masked(img, int(rng.integers(60, 230))),
}


def degrade_set(images: np.ndarray, condition: str, seed: int = 0) -> np.ndarray:
    """A whole (n, side, side) set under one condition, reproducible by `seed`."""
    rng = np.random.default_rng(seed)
    apply = CONDITIONS[condition]
    return np.stack([apply(img, rng) for img in images])


def random_meeting(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random mix of meeting conditions (for training): each applied with its own chance."""
    out = image
    if rng.random() < 0.5:
        out = downscaled(out, int(rng.integers(16, 40)))
    if rng.random() < 0.2:
        out = blurred(out, float(rng.uniform(0.5, 1.5)))
    if rng.random() < 0.2:
        out = low_light(out, rng, gain=float(rng.uniform(0.25, 0.7)), noise=float(rng.uniform(2, 8)))
    if rng.random() < 0.1:
        out = masked(out, int(rng.integers(40, 240)))
    if rng.random() < 0.4:
        out = jpeg(out, int(rng.integers(20, 60)))
    return out


def meeting_view(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each face once through `random_meeting`, the same every run: PublicTest as a meeting
    expert sees it (its training's steer and its calibration)."""
    rng = np.random.default_rng(seed)
    return np.stack([random_meeting(image, rng) for image in images])
