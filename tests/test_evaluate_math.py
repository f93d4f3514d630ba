import numpy as np
import pytest

from training.evaluate import confusion_matrix, summarize


def test_confusion_matrix_matches_hand_count():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3), expected)


def test_summary_from_hand_computed_matrix():
    matrix = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    result = summarize(matrix, ("a", "b", "c"))
    assert result["n"] == 6
    assert result["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert result["per_class"] == {"a": 0.5, "b": 1.0, "c": pytest.approx(2 / 3, abs=1e-4)}
    assert result["precision"] == {"a": 0.5, "b": 0.5, "c": 1.0}
    assert result["support"] == {"a": 2, "b": 1, "c": 3}


def test_class_without_faces_has_no_recall_rather_than_zero():
    matrix = np.array([[2, 0], [0, 0]])
    result = summarize(matrix, ("a", "b"))
    assert result["per_class"]["b"] is None
    assert result["precision"]["b"] is None
    assert result["accuracy"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], 2)


def test_the_crowds_majority_needs_half_the_votes():
    from training.ferplus import majority

    votes = np.array([[0, 0, 0, 6, 0, 0, 4], [0, 0, 0, 4, 3, 0, 3], [0, 0, 0, 0, 0, 0, 5], [0] * 7])
    assert majority(votes).tolist() == [3, -1, 6, -1]


def test_crowd_figures_from_hand_counted_readings():
    from bench.crowd_faces import crowd_figures

    # crowd: calm, calm, calm, smile, smile, unlabelled; read: sad, neutral, happy, happy, neutral, angry
    crowd = np.array([6, 6, 6, 3, 3, -1])
    probabilities = np.eye(7)[[4, 6, 3, 3, 6, 0]]
    guesses = np.array([True, False, False, False, True, True])
    figures = crowd_figures(probabilities, guesses, crowd)
    assert figures["calm read negative"] == pytest.approx(1 / 3)
    assert figures["smiles read happy"] == pytest.approx(1 / 2)
    assert figures["readings uncertain"] == pytest.approx(2 / 5)  # the unlabelled face does not count
    assert figures["crowd agreement"] == pytest.approx(2 / 5)
    assert figures["of guesses"] == 0.0 and figures["of the rest"] == pytest.approx(2 / 3)
