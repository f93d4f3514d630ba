"""`classmood fit-gate`: fit core.face_quality's gate into a meeting expert's model file.

The gate learns one thing, from FER2013 Training faces only: whether a face was put through
`training.degrade`'s meeting conditions (made small, video-coded, blurred, dim, masked) or
left clean. No test image and no model's answer is involved, so it cannot be fitted to a
benchmark; PublicTest only reports how many faces of each condition it routes. Where along
its probability the expert takes over (`band`) is the caller's choice, made on PublicTest
with both networks reading (the model card's table for the shipped one).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from core.calibration import logistic
from core.face_quality import DEFAULT_BAND, QualityGate, quality_measures, rising_band, with_products


def gate_examples(images: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` Training faces, half clean and half through random meeting conditions; label 1
    where the face was changed (a draw can leave it as it was)."""
    from training.degrade import random_meeting

    rng = np.random.default_rng(seed)
    faces, degraded = [], []
    for index in rng.choice(len(images), min(count, len(images)), replace=False):
        face = images[index]
        seen = random_meeting(face, rng) if rng.random() < 0.5 else face
        faces.append(seen)
        degraded.append(not np.array_equal(seen, face))
    return np.stack(faces), np.asarray(degraded, np.float32)


def fit_gate(faces: np.ndarray, degraded: np.ndarray, steps: int = 3000, l2: float = 1e-3) -> QualityGate:
    """Logistic regression (full-batch gradient descent, deterministic) on the measures and their products."""
    measures = quality_measures(faces)
    mean, spread = measures.mean(axis=0), measures.std(axis=0) + 1e-6
    x = with_products((measures - mean) / spread)
    weights = np.zeros(x.shape[1], np.float32)
    for _ in range(steps):
        p = logistic(x @ weights)
        weights -= 0.5 * (x.T @ (p - degraded) / len(degraded) + l2 * weights)
    return QualityGate(tuple(float(v) for v in mean), tuple(float(v) for v in spread), tuple(float(v) for v in weights))


def routed_shares(gate: QualityGate, images: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Per bench.degraded condition, the expert's mean share of the readings."""
    from training.degrade import CONDITIONS, degrade_set

    return {name: float(gate.expert_share(degrade_set(images, name, seed)).mean()) for name in CONDITIONS}


def write_gate(
    data_path: Path, expert_path: Path, count: int = 12000, seed: int = 0, band: tuple[float, float] = DEFAULT_BAND
) -> dict:
    """Fit the gate and write it into the meeting expert's contract (its weights stay as they are).
    `band`: the degraded probability over which the expert's share rises from 0 to 1."""
    from core.model import read_contract, write_contract
    from training import fer2013
    from training.config import default_cache_dir

    contract = read_contract(expert_path)
    data = fer2013.load(data_path, default_cache_dir())
    faces, degraded = gate_examples(data.split("Training")[0], count, seed)
    gate = replace(fit_gate(faces, degraded), band=rising_band(band))
    fitted = float(((gate.degraded_probability(faces) > 0.5) == degraded).mean())
    write_contract(expert_path, replace(contract, quality_gate=gate.as_dict()))
    return {
        "training_faces": len(faces),
        "training_agreement": fitted,
        "public_test_routed": routed_shares(gate, data.split("PublicTest")[0]),
    }
