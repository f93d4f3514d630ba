"""Does a face crop look as a meeting tile shows it (small, coded, blurred, dim) or clean?

The product reads faces with two networks (unless told `--no-meeting-expert`): the FER2013
model, best on clean faces, and a meeting expert (training/recipes/v3.toml), trained on faces
made small, video-coded, blurred and dim. Each alone loses somewhere: the expert about a point on
clean faces (and it sits under the 70 % PrivateTest floor), the clean model 12 points on a
24-pixel face and 37 in a dim room. `QualityGate` sends each crop to the one that reads it
better, from a few measures of the crop itself, so it works for a screenshot, a photo or a
webcam frame alike and costs about 0.1 ms a face.

Near the line between the two a crop is read by both and their readings blended, the
expert's share rising from 0 to 1 across `band` of the gate's probability: a face on the
border (a few video-coded pixels either way) then moves its reading a little, never jumps
from one network's answer to the other's. The band sits low (the shipped expert's: 0.1-0.4,
chosen on PublicTest; `DEFAULT_BAND` for a newly fitted gate): the expert loses about a point
on a clean face and the clean model 5-30 on a degraded one, so a face that is only possibly
degraded is better read by the expert.

The gate is a logistic regression on those measures and their pairwise products, fitted on
FER2013 Training faces, half left clean and half put through `training.degrade`'s meeting
conditions (`training.meeting_gate`); its numbers travel in the expert's contract.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from core.calibration import logistic

#: What each measure is, in the order `quality_measures` returns them.
MEASURES = (
    "mean grey level",
    "contrast (grey level std)",
    "fine detail (log std after removing a 1 px blur)",
    "coarser detail (log std after removing a 2 px blur)",
    "fine detail against contrast (log ratio)",
    "edges (log std of the Laplacian)",
    "8x8 block edges against all edges (JPEG)",
    "bright end (95th percentile)",
    "dark end (5th percentile)",
    "lower face flatness (its std against the whole face's)",
)


def quality_measures(crops: np.ndarray) -> np.ndarray:
    """(n, side, side) uint8 crops -> (n, len(MEASURES)) float32: each crop's light, detail and coding.

    The whole batch at once (OpenCV filters a stack of crops as one many-channel image): 25
    crops in about 2 ms, a quarter of the time crop by crop."""
    crops = np.asarray(crops)
    if len(crops) > CHANNELS_AT_ONCE:
        return np.concatenate(
            [quality_measures(crops[i : i + CHANNELS_AT_ONCE]) for i in range(0, len(crops), CHANNELS_AT_ONCE)]
        )
    n, side = len(crops), crops.shape[1] if crops.ndim == 3 else 0
    if n == 0:
        return np.zeros((0, len(MEASURES)), np.float32)
    x = np.ascontiguousarray(crops.transpose(1, 2, 0), dtype=np.float32)  # (side, side, n)
    flat = x.reshape(side * side, n)
    std = flat.std(axis=0) + 1e-3
    fine = (x - _blurred(x, 1.0)).reshape(side * side, n).std(axis=0)
    coarse = (x - _blurred(x, 2.0)).reshape(side * side, n).std(axis=0)
    edges = _as_stack(cv2.Laplacian(x, cv2.CV_32F), n).reshape(side * side, n).std(axis=0)
    across, down = np.abs(np.diff(x, axis=1)), np.abs(np.diff(x, axis=0))
    blocks = (across[:, 7::8].mean(axis=(0, 1)) + down[7::8].mean(axis=(0, 1))) / (
        across.mean(axis=(0, 1)) + down.mean(axis=(0, 1)) + 1e-3
    )
    lower = x[int(0.62 * side) : int(0.9 * side), int(0.3 * side) : int(0.7 * side)].reshape(-1, n).std(axis=0)
    dark, bright = np.percentile(flat, [5, 95], axis=0)
    columns = [
        flat.mean(axis=0) / 255,
        std / 64,
        np.log(fine + 1e-2),
        np.log(coarse + 1e-2),
        np.log(fine / std + 1e-3),
        np.log(edges + 1e-2),
        blocks,
        bright / 255,
        dark / 255,
        lower / std,
    ]
    return np.stack(columns, axis=1).astype(np.float32)


CHANNELS_AT_ONCE = 128  # the most channels OpenCV's Python binding takes in one image


def _as_stack(filtered: np.ndarray, n: int) -> np.ndarray:
    """OpenCV drops the channel axis of a one-channel image; put it back."""
    return filtered.reshape(filtered.shape[0], filtered.shape[1], n)


def _blurred(x: np.ndarray, sigma: float) -> np.ndarray:
    return _as_stack(cv2.GaussianBlur(x, (0, 0), sigma), x.shape[2])


def with_products(z: np.ndarray) -> np.ndarray:
    """Standardised measures, their pairwise products and a constant: what the gate weighs."""
    n, k = z.shape
    pairs = [z[:, i : i + 1] * z[:, j : j + 1] for i in range(k) for j in range(i, k)]
    return np.concatenate([z, *pairs, np.ones((n, 1), np.float32)], axis=1)


DEFAULT_BAND = (0.25, 0.75)


def rising_band(band) -> tuple[float, float]:
    """A band as two floats; a ValueError unless it rises within 0-1 (the expert's share needs a slope)."""
    low, high = (float(v) for v in band)
    if not 0 <= low < high <= 1:
        raise ValueError(f"the band must rise within 0-1, not {low}-{high}")
    return low, high


@dataclass(frozen=True)
class QualityGate:
    """Fitted numbers: the measures' mean and spread, the weights, and the routing line."""

    mean: tuple[float, ...]
    spread: tuple[float, ...]
    weights: tuple[float, ...]
    band: tuple[float, float] = DEFAULT_BAND  # degraded probability where the expert's share goes 0 -> 1

    def degraded_probability(self, crops: np.ndarray) -> np.ndarray:
        """How likely each crop is a degraded (meeting-tile) face rather than a clean one."""
        z = (quality_measures(crops) - np.asarray(self.mean, np.float32)) / np.asarray(self.spread, np.float32)
        logits = with_products(z) @ np.asarray(self.weights, np.float32)
        return logistic(logits)

    def expert_share(self, crops: np.ndarray) -> np.ndarray:
        """Per crop, the meeting expert's share of the reading: 0 (clean) to 1 (degraded)."""
        low, high = self.band
        return np.clip((self.degraded_probability(crops) - low) / (high - low), 0.0, 1.0).astype(np.float32)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> QualityGate:
        gate = cls(tuple(raw["mean"]), tuple(raw["spread"]), tuple(raw["weights"]), rising_band(raw["band"]))
        k = len(MEASURES)
        if len(gate.mean) != k or len(gate.spread) != k or len(gate.weights) != k + k * (k + 1) // 2 + 1:
            raise ValueError(f"a quality gate needs {k} measures; this one has {len(gate.mean)}")
        return gate
