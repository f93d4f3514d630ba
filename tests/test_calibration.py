"""Calibration: the math against hand-computed cases, and the model contract that carries it."""

import shutil

import numpy as np
import pytest

from core.calibration import (
    balance_weights,
    expected_calibration_error,
    fit_temperature,
    lecture_prior,
    mirror_line,
    reliability,
    uncertain_threshold,
    with_prior,
    with_temperature,
)
from core.labels import EMOTIONS


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


def test_mirror_line_is_the_lowest_that_keeps_every_answer_of_mirroring_all():
    """Face 0 is sure (0.9) and its mirror would not change it; face 1 (top 0.55) flips to sad
    with its mirror; face 2 (top 0.65) flips too. Mirroring only under 0.6 leaves face 2's
    answer changed; under 0.7 every answer is the all-mirrored one."""
    single = np.array([[0.9, 0.1, 0, 0, 0, 0, 0], [0.55, 0, 0, 0, 0.45, 0, 0], [0.65, 0, 0, 0, 0.35, 0, 0]])
    mirrored = np.array([[0.7, 0.3, 0, 0, 0, 0, 0], [0.2, 0, 0, 0, 0.8, 0, 0], [0.2, 0, 0, 0, 0.8, 0, 0]])
    assert mirror_line(single, mirrored, lines=(0.5, 0.6, 0.7, 0.8)) == 0.7
    assert mirror_line(single[:2], mirrored[:2], lines=(0.5, 0.6, 0.7, 0.8)) == 0.6
    assert mirror_line(single[:1], mirrored[:1], lines=(0.5, 0.6)) == 0.5
    always = np.array([[0.95, 0.05, 0, 0, 0, 0, 0]]), np.array([[0.0, 1.0, 0, 0, 0, 0, 0]])
    assert mirror_line(*always, lines=(0.5, 0.9)) == 1.0  # a sure face its mirror overturns: mirror every face


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


def test_class_balance_shift_matches_hand_computation():
    # p / trained_on = [0.6 / 0.75, 0.4 / 0.25] = [0.8, 1.6], times an even prior, renormalised
    np.testing.assert_allclose(with_prior([[0.6, 0.4]], [0.5, 0.5], [0.75, 0.25]), [[1 / 3, 2 / 3]], rtol=1e-6)
    # the same balance changes nothing; a balance the net was trained on maps back
    np.testing.assert_allclose(with_prior([[0.6, 0.4]], [0.3, 0.7], [0.3, 0.7]), [[0.6, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(with_prior([[0.5, 0.5]], [0.8, 0.2], [0.5, 0.5]), [[0.8, 0.2]], rtol=1e-6)


def test_lecture_prior_makes_negatives_rarer_and_keeps_the_other_odds():
    trained_on = np.array([0.14, 0.015, 0.145, 0.25, 0.17, 0.11, 0.17])
    prior = lecture_prior(trained_on, negative_weight=0.25)
    happy, neutral, surprise, sad = (EMOTIONS.index(e) for e in ("happy", "neutral", "surprise", "sad"))
    assert prior.sum() == pytest.approx(1.0)
    # hand-computed: the four negatives weigh 0.25 * 0.47 = 0.1175, the rest 0.53; total 0.6475
    assert prior[neutral] == pytest.approx(0.17 / 0.6475) and prior[sad] == pytest.approx(0.25 * 0.17 / 0.6475)
    assert prior[happy] / prior[neutral] == pytest.approx(0.25 / 0.17)  # a smile against calm: odds kept
    assert prior[surprise] / prior[neutral] == pytest.approx(0.11 / 0.17)
    np.testing.assert_allclose(lecture_prior(trained_on, 1.0), trained_on / trained_on.sum())
    with pytest.raises(ValueError, match="not in"):
        lecture_prior(trained_on, negative_weight=0.0)


def test_balance_weights_and_weighted_ece_match_hand_computation():
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(balance_weights(labels, [0.5, 0.5]), [0.75, 0.75, 1.5])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    truth = np.array([0, 1, 1, 1])
    # the right 0.9 reading counts three times: bin 0.9 right 3 of 4 (gap 0.15, 4 of 6 weight),
    # bin 0.6 right 2 of 2 (gap 0.4, 2 of 6): 4/6 * 0.15 + 2/6 * 0.4
    weights = np.array([3.0, 1.0, 1.0, 1.0])
    assert expected_calibration_error(probs, truth, weights=weights) == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.4)


def test_contract_carries_the_lecture_reading(tiny_model_file, tmp_path):
    from dataclasses import replace

    from core.emotions import EmotionClassifier
    from core.model import read_contract, write_contract

    trained_on = (0.14, 0.015, 0.145, 0.25, 0.17, 0.11, 0.17)
    lecture = tuple(float(p) for p in lecture_prior(np.array(trained_on), negative_weight=0.1))
    path = shutil.copy(tiny_model_file, tmp_path / "lecture.keras")
    contract = replace(
        read_contract(path),
        temperature=0.5,
        uncertain_below=0.4,
        training_prior=trained_on,
        lecture_prior=lecture,
        lecture_uncertain_below=0.6,
    )
    write_contract(path, contract)
    assert read_contract(path).lecture_prior == lecture
    crops = np.random.default_rng(4).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    as_fer = EmotionClassifier(path, balance="fer2013")
    in_class = EmotionClassifier(path)
    np.testing.assert_allclose(
        in_class.probabilities(crops), with_prior(as_fer.probabilities(crops), lecture, trained_on), rtol=1e-5
    )
    reading = [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.5]  # sad or calm: a toss-up in FER2013, calm in class
    assert in_class.uncertain(reading) and not as_fer.uncertain(reading)  # each balance has its own guess line
    with pytest.raises(ValueError, match="unknown class balance"):
        EmotionClassifier(path, balance="meeting")


def test_an_all_black_or_flat_crop_reads_as_the_base_rate_and_a_guess(tiny_model_file, tmp_path):
    from dataclasses import replace

    from core.emotions import EmotionClassifier
    from core.model import read_contract, write_contract

    path = shutil.copy(tiny_model_file, tmp_path / "calibrated.keras")
    write_contract(path, replace(read_contract(path), temperature=1.0, uncertain_below=0.3))
    classifier = EmotionClassifier(path)
    crops = np.zeros((3, 48, 48), np.uint8)
    crops[1] = 128
    crops[2] = np.random.default_rng(5).integers(0, 256, (48, 48))
    probs = classifier.probabilities(crops)
    np.testing.assert_allclose(probs[:2], np.full((2, 7), 1 / 7), rtol=1e-6)
    assert classifier.uncertain(probs[0]) and not np.allclose(probs[2], 1 / 7)


def test_a_crop_of_the_wrong_size_is_a_clear_error(tiny_model_file):
    from core.emotions import EmotionClassifier

    with pytest.raises(ValueError, match="crops must be 48x48 grayscale"):
        EmotionClassifier(tiny_model_file).probabilities(np.zeros((2, 64, 64), np.uint8))


def test_the_lecture_guess_line_is_judged_by_the_crowd_where_its_votes_are(
    fer_csv, ferplus_csv, tiny_model_file, tmp_path
):
    from core.model import read_contract
    from training.calibrate import calibrate
    from training.fer2013 import DataError

    path = shutil.copy(tiny_model_file, tmp_path / "crowd.keras")
    by_labels = calibrate(fer_csv, path, write=False)
    by_crowd = calibrate(fer_csv, path, votes=ferplus_csv)
    assert by_labels["lecture_line_judged_by"] == "FER2013 labels"
    assert by_crowd["lecture_line_judged_by"].startswith("the FER+ crowd's majority (3368 ")
    assert read_contract(path).lecture_uncertain_below == by_crowd["lecture_uncertain_below"]
    assert by_crowd["temperature"] == by_labels["temperature"]  # FER2013's own reading is judged as before

    short = tmp_path / "fer2013new.csv"
    short.write_text("Usage,neutral,happiness,surprise,sadness,anger,disgust,fear\nPublicTest,10,0,0,0,0,0,0\n")
    with pytest.raises(DataError, match="1 PublicTest vote rows for 3589 faces"):
        calibrate(fer_csv, path, write=False, votes=short)


def test_the_guess_line_is_where_a_fitted_logistic_curve_crosses_one_half():
    from core.calibration import logistic_fit

    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.2, 0.9, 40000)
    right = rng.random(40000) < 1 / (1 + np.exp(-(12 * confidence - 7.2)))  # one half at 0.6
    a, b = logistic_fit(confidence, right.astype(float), np.ones(40000))
    assert b == pytest.approx(12, rel=0.1) and -a / b == pytest.approx(0.6, abs=0.01)
    probs = np.column_stack([confidence] + [(1 - confidence) / 6] * 6)  # the first class always on top
    assert uncertain_threshold(probs, np.where(right, 0, 1)) == pytest.approx(0.6, abs=0.01)
    # a weight of 2 counts a reading twice
    twice = logistic_fit(np.r_[confidence, confidence], np.r_[right, right].astype(float), np.ones(80000))
    np.testing.assert_allclose(logistic_fit(confidence, right.astype(float), np.full(40000, 2.0)), twice, rtol=1e-6)
    assert uncertain_threshold(np.array([[0.3, 0.7]] * 10), np.zeros(10, int)) == 0.8  # all wrong: all guesses
