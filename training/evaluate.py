"""`classmood evaluate`: accuracy overall and per class, and a confusion matrix, on one split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.calibration import balance_weights, expected_calibration_error, with_prior
from core.labels import EMOTIONS, NEGATIVE


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = len(EMOTIONS)) -> np.ndarray:
    """matrix[i, j] = how many faces of true class i were predicted as class j."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred differ in length")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def summarize(matrix: np.ndarray, labels: tuple[str, ...] = EMOTIONS) -> dict:
    """Accuracy, per-class recall and precision from a confusion matrix (None where undefined)."""
    total = int(matrix.sum())
    diagonal = np.diag(matrix)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)

    def ratio(num, den):
        return None if den == 0 else round(float(num) / float(den), 4)

    return {
        "n": total,
        "accuracy": ratio(diagonal.sum(), total),
        "per_class": {name: ratio(diagonal[i], support[i]) for i, name in enumerate(labels)},
        "precision": {name: ratio(diagonal[i], predicted[i]) for i, name in enumerate(labels)},
        "support": {name: int(support[i]) for i, name in enumerate(labels)},
    }


def predict_split(
    classifier, images: np.ndarray, flip_average: bool = False, batch: int = 512, raw: bool = False
) -> np.ndarray:
    """The split's readings in batches; `flip_average`: each face averaged with its mirror, which a
    file that flips (`classifier.flip_average`) already does: its mirror's reading is the same."""
    flip_average = flip_average and not classifier.flip_average
    probs = []
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        p = classifier.probabilities(chunk, raw=raw)
        if flip_average:
            p = (p + classifier.probabilities(chunk[:, :, ::-1].copy(), raw=raw)) / 2
        probs.append(p)
    return np.concatenate(probs)


def evaluate(
    data_path: Path,
    model_path: Path | None,
    split: str,
    out: Path | None,
    flip_average: bool = False,
    meeting_expert: Path | bool | None = None,
) -> dict:
    from core.emotions import EmotionClassifier
    from training import fer2013
    from training.config import default_cache_dir

    data = fer2013.load(data_path, default_cache_dir())
    images, labels = data.split(split)
    classifier = EmotionClassifier(model_path, balance="fer2013", meeting_expert=meeting_expert)
    probabilities = predict_split(classifier, images, flip_average)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted)
    result = {
        "split": split,
        "model": str(model_path or "shipped"),
        "flip_average": flip_average or classifier.flip_average,  # asked for, or in the file's reading
        "served_by": classifier.served_by,
        "reading": classifier.reading,
    }
    if classifier.expert is not None:  # the file given, or the partner the model's file names
        result["meeting_expert"] = str(meeting_expert) if meeting_expert else classifier.expert.path.name
    result.update(summarize(matrix))
    result["ece"] = expected_calibration_error(probabilities, labels)
    if classifier.gate is not None:  # a pair: how much of the reading came from the meeting expert
        result["meeting_expert_share"] = float(classifier.gate.expert_share(images).mean())
    contract = classifier.contract
    if contract.lecture_prior is not None:
        result["lecture"] = lecture_figures(
            probabilities, labels, contract.lecture_prior, contract.training_prior, contract.lecture_uncertain_below
        )
    result["confusion_matrix"] = matrix.tolist()
    unseen = ~np.isin(_hashes(images), _hashes(data.split("Training")[0]))
    if split != "Training" and unseen.sum() < len(images):
        result["accuracy_excluding_training_duplicates"] = summarize(
            confusion_matrix(labels[unseen], predicted[unseen])
        )["accuracy"]
        result["n_excluding_training_duplicates"] = int(unseen.sum())
    if out is not None:
        from training.plots import plot_confusion

        out.mkdir(parents=True, exist_ok=True)
        plot_confusion(matrix, EMOTIONS, out / f"confusion_{split}.png", f"{split}: accuracy {result['accuracy']:.2%}")
        (out / f"evaluation_{split}.json").write_text(json.dumps(result, indent=2))
    return result


def lecture_figures(probabilities: np.ndarray, labels: np.ndarray, prior, trained_on, guess_line) -> dict:
    """The split as a lecture would show it (weighted to the lecture balance `prior`), read as
    the product reads a lecture: accuracy, calibration error, guesses, per-class recall and
    the share of neutral faces read angry, disgust, fear or sad (a false alarm for a teacher).
    `probabilities`: calibrated, with the balance `trained_on`."""
    lecture = with_prior(probabilities, prior, trained_on)
    weights = balance_weights(labels, prior)
    predicted = lecture.argmax(axis=1)
    neutral = labels == EMOTIONS.index("neutral")
    negative = np.isin(predicted, [EMOTIONS.index(e) for e in NEGATIVE])
    return {
        "accuracy": float(np.average(predicted == labels, weights=weights)),
        "ece": expected_calibration_error(lecture, labels, weights=weights),
        "guesses": float(np.average(lecture.max(axis=1) < (guess_line or 0), weights=weights)),
        "per_class": summarize(confusion_matrix(labels, predicted))["per_class"],
        "neutral_read_negative": float(negative[neutral].mean()) if neutral.any() else None,
    }


def _hashes(images: np.ndarray) -> np.ndarray:
    """One 64-bit fingerprint per image, to find exact duplicates across splits."""
    import hashlib

    return np.array([hashlib.blake2b(img.tobytes(), digest_size=8).hexdigest() for img in images])
