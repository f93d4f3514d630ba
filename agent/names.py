"""Read the name tag of each tile with RapidOCR (its models ship inside its wheel).

Zoom puts the name at the bottom-left of a video tile and in the middle of a camera-off
tile. Name tags rarely change, so results are cached by a coarse fingerprint of the tag
area: a steady gallery costs OCR only on the first capture and when someone new appears.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

import cv2
import numpy as np

MIN_CONFIDENCE = 0.6


def tag_region(tile: np.ndarray, camera_on: bool) -> np.ndarray:
    """Where the name is: bottom-left strip of a video tile, middle band of a camera-off one."""
    h, w = tile.shape[:2]
    if camera_on:
        return tile[int(h * 0.78) :, : int(w * 0.75)]
    return tile[int(h * 0.3) : int(h * 0.7), int(w * 0.05) : int(w * 0.95)]


def normalize_name(text: str) -> str:
    """The identity key of a name: case, spaces and punctuation do not matter."""
    return re.sub(r"[\W_]+", "", text, flags=re.UNICODE).casefold()


def fingerprint(region: np.ndarray) -> str:
    gray = region if region.ndim == 2 else cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (48, 12), interpolation=cv2.INTER_AREA) // 32
    return hashlib.blake2b(small.tobytes() + bytes(str(gray.shape), "ascii"), digest_size=12).hexdigest()


class NameReader:
    """OCR with a bounded cache; read() returns the name or None where none can be read."""

    def __init__(self, cache_size: int = 512):
        from rapidocr_onnxruntime import RapidOCR

        # The default detector scales every input up to 736 px (1-2 s a tag on 2 cores);
        # name tags are small, so capping at 480 px keeps a read near 30 ms.
        self._ocr = RapidOCR(det_limit_type="max", det_limit_side_len=480, intra_op_num_threads=1)
        self._cache: OrderedDict[str, str | None] = OrderedDict()
        self.cache_size = cache_size
        self.ocr_calls = 0

    def read(self, tile: np.ndarray, camera_on: bool) -> str | None:
        region = tag_region(tile, camera_on)
        if region.size == 0:
            return None
        key = fingerprint(region)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        name = self._recognize(region, camera_on)
        self._cache[key] = name
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return name

    def _recognize(self, region: np.ndarray, camera_on: bool) -> str | None:
        self.ocr_calls += 1
        if region.shape[0] < 64:  # small tags: text detection misses words at this size
            region = cv2.resize(region, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        region = cv2.copyMakeBorder(region, 12, 12, 12, 12, cv2.BORDER_REPLICATE)  # text on the edge is missed
        result, _ = self._ocr(region, use_cls=False)
        if not result:
            return None
        words = [(box, text, float(score)) for box, text, score in result if float(score) >= MIN_CONFIDENCE]
        if not words:
            return None
        if camera_on:  # the tag sits lowest in the strip
            anchor = max(words, key=lambda w: _bottom(w[0]))
        else:  # the largest text in the middle
            anchor = max(words, key=lambda w: _bottom(w[0]) - _top(w[0]))
        text = join_line(words, anchor)
        text = text.strip()
        return text if normalize_name(text) else None


def _top(box) -> float:
    return min(p[1] for p in box)


def _bottom(box) -> float:
    return max(p[1] for p in box)


def join_line(words, anchor) -> str:
    """All words whose vertical centre lies within the anchor word's line, left to right."""
    top, bottom = _top(anchor[0]), _bottom(anchor[0])
    same_line = [w for w in words if top <= (_top(w[0]) + _bottom(w[0])) / 2 <= bottom]
    return " ".join(w[1] for w in sorted(same_line, key=lambda w: min(p[0] for p in w[0])))
