"""Calibration: the math against hand-computed cases, and the model contract that carries it."""

import shutil

import numpy as np
import pytest

from core.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability,
    uncertain_threshold,
    with_temperature,
)


def test_temperature_matches_hand_computation():
    # T = 0.5 squares the probabilities: [0.25, 0.0625, 0.0625] / 0.375
    np.testing.assert_allclose(with_temperature(np.array([[0.5, 0.25, 0.25]]), 0.5), [[2 / 3, 1 / 6, 1 / 6]], rtol=1e-6)
    # T = 1 changes nothing; any T keeps the winner
    p = np.array([[0.1, 0.7, 0.2], [0.4, 0.35, 0.25]])
    np.testing.assert_allclose(with_temperature(p, 1.0), p, rtol=1e-6)
    assert (with_temperature(p, 3.0).argmax(axis=1) == p.argmax(axis=1)).all()


def test_ece_matches_hand_computation():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    # bin of 0.9: right 1 of 2 (gap 0.4); bin of 0.6: right 2 of 2 (gap 0.4); each half the readings
    assert expected_calibration_error(probs, labels) == pytest.approx(0.4)
    rows = reliability(probs, labels)
    assert [(r["n"], r["accuracy"]) for r in rows] == [(2, 1.0), (2, 0.5)]


def test_fitted_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1.5, size=(20000, 7))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(7, p=row) for row in truth])
    overconfident = with_temperature(truth, 0.5)  # logits doubled
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(2.0, rel=0.05)
    calibrated = with_temperature(overconfident, temperature)
    assert expected_calibration_error(calibrated, labels) < 0.01 < expected_calibration_error(overconfident, labels)


def test_guess_line_sits_where_readings_turn_more_wrong_than_right():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.2, 1.0, 20000)
    right = rng.random(20000) < confidence  # calibrated: right as often as confident
    probs = np.stack([confidence, 1 - confidence], axis=1)
    labels = np.where(right, 0, 1)
    probs[confidence < 0.5] = probs[confidence < 0.5][:, ::-1]  # the top class is then the second one
    labels = np.where(confidence < 0.5, 1 - labels, labels)
    line = uncertain_threshold(probs, labels)
    assert 0.45 <= line <= 0.56
    assert uncertain_threshold(np.array([[0.9, 0.1]] * 100), np.zeros(100, int)) == 0.0  # all right: no guesses


def test_uncalibrated_file_is_handled_explicitly(tiny_model_file, caplog):
    from core.emotions import EmotionClassifier

    classifier = EmotionClassifier(tiny_model_file)
    assert not classifier.contract.calibrated
    assert "not calibrated" in caplog.text
    crops = np.random.default_rng(2).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(classifier.probabilities(crops), classifier.probabilities(crops, raw=True))
    assert not classifier.uncertain([1 / 7] * 7)  # nothing known: no reading called a guess


def test_contract_carries_the_calibration(tiny_model_file, tmp_path):
    from dataclasses import replace

    from core.emotions import EmotionClassifier
    from core.model import read_contract, write_contract

    path = shutil.copy(tiny_model_file, tmp_path / "calibrated.keras")
    write_contract(path, replace(read_contract(path), temperature=0.5, uncertain_below=0.4))
    contract = read_contract(path)
    assert (contract.temperature, contract.uncertain_below, contract.calibrated) == (0.5, 0.4, True)
    classifier = EmotionClassifier(path)
    crops = np.random.default_rng(3).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    raw = classifier.probabilities(crops, raw=True)
    np.testing.assert_allclose(classifier.probabilities(crops), with_temperature(raw, 0.5), rtol=1e-5)
    np.testing.assert_allclose(raw, EmotionClassifier(tiny_model_file).probabilities(crops), rtol=1e-6)  # same weights
    assert classifier.uncertain([0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert not classifier.uncertain([0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0.0])
