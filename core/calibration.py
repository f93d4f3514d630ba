"""Calibrated probabilities: temperature scaling, its error measure, and where a reading is a guess.

A network trained with cross-entropy is over- or under-confident: among faces it calls "happy
at 0.9" fewer or more than 90 % are happy. Temperature scaling (Guo et al., ICML 2017)
divides the log-probabilities by one number T fitted on held-out data (FER2013 PublicTest),
which keeps every prediction's winner and makes its probability mean what it says. The
expected calibration error (ECE) measures what is left: the gap between confidence and
accuracy, averaged over confidence bins weighted by how many readings fall in each.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
TINY = 1e-12
T_RANGE = (0.05, 20.0)  # a fitted temperature outside this says the probabilities are broken
UNCERTAIN_GRID = np.round(np.arange(0.20, 0.81, 0.01), 2)  # top probabilities tried as the guess line
BAND = 0.05  # width of the slice of readings just under a line that judges it
MIN_BELOW = 50  # readings that slice needs to be judged


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same winner, sharper for T < 1, softer for T > 1."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), TINY, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=-1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = np.asarray(probabilities, np.float64)[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, TINY, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T that minimises the negative log-likelihood of `labels` (golden-section search on
    log T: the likelihood is unimodal in T)."""
    labels = np.asarray(labels, np.int64)

    def loss(log_t: float) -> float:
        return negative_log_likelihood(with_temperature(probabilities, float(np.exp(log_t))), labels)

    low, high = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    ratio = (np.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = loss(a), loss(b)
    for _ in range(60):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = loss(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = loss(b)
    return float(np.exp((low + high) / 2))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Per equal-width confidence bin: readings, mean confidence, accuracy (empty bins left out)."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(inside.sum()),
                    "confidence": float(confidence[inside].mean()),
                    "accuracy": float(correct[inside].mean()),
                }
            )
    return rows


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """sum over bins of (share of readings) x |accuracy - mean confidence|."""
    rows = reliability(probabilities, labels, bins)
    total = sum(r["n"] for r in rows)
    return float(sum(r["n"] / total * abs(r["accuracy"] - r["confidence"]) for r in rows)) if total else 0.0


def uncertain_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The top probability under which a reading is a guess: the highest line on UNCERTAIN_GRID
    where the readings just under it (a BAND-wide slice) are right less than half the time,
    more often wrong than right. Chosen on PublicTest; 0.0 where no slice is (no guesses)."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    chosen = 0.0
    for line in UNCERTAIN_GRID:
        just_under = (confidence >= line - BAND) & (confidence < line)
        if just_under.sum() >= MIN_BELOW and correct[just_under].mean() < 0.5:
            chosen = float(line)
    return chosen
