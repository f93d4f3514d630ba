"""`classmood calibrate`: fit a model's temperature and its guess lines on PublicTest, write them
into the model's contract with the lecture balance, and report what is left on PrivateTest
(never used to choose).

The lecture reading's guess line is judged against the crowd (FER+: ten annotators per face)
where their votes are at hand. The lecture balance reads many faces that FER2013's single
label calls sad or afraid as calm, and the crowd agrees (48 % of Training's "sad" faces are
neutral by their majority): judged by FER2013's label, readings the crowd finds right three
times in four look wrong more often than right, and too many are marked as guesses."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.calibration import (
    balance_weights,
    class_shares,
    expected_calibration_error,
    fit_temperature,
    lecture_prior,
    mirror_line,
    reliability,
    uncertain_threshold,
    with_prior,
    with_temperature,
)


def calibrate(
    data_path: Path,
    model_path: Path,
    out: Path | None = None,
    write: bool = True,
    view: str = "clean",
    flip_average: bool | None = None,
    votes: Path | None = None,
) -> dict:
    """`view="meeting"`: every face through training.degrade's meeting conditions first (seeded),
    as a meeting expert sees its faces. `flip_average`: calibrate the reading of each face and its
    mirror averaged, and say so in the contract (None: as the file says). `votes`: the FER+ vote
    file the lecture guess line is judged by (None: FER2013's labels)."""
    from core.emotions import EmotionClassifier
    from core.model import write_contract
    from training import fer2013, ferplus
    from training.config import default_cache_dir
    from training.degrade import meeting_view
    from training.evaluate import lecture_figures, predict_split

    data = fer2013.load(data_path, default_cache_dir())
    classifier = EmotionClassifier(model_path, balance="fer2013", meeting_expert=False)  # this network alone
    if flip_average is not None:
        classifier.flip_average = flip_average
    public_x, public_y = data.split("PublicTest")
    private_x, private_y = data.split("PrivateTest")
    if view == "meeting":
        public_x, private_x = meeting_view(public_x), meeting_view(private_x)
    classifier.mirror_below, mirrored_share = 1.0, 0.0
    if classifier.flip_average:
        single, mirrored = single_views(classifier, public_x)
        classifier.mirror_below = mirror_line(single, mirrored)
        mirrored_share = float((single.max(axis=1) < classifier.mirror_below).mean())
    public_raw = predict_split(classifier, public_x, raw=True)
    temperature = fit_temperature(public_raw, public_y)
    public_calibrated = with_temperature(public_raw, temperature)
    line = uncertain_threshold(public_calibrated, public_y)
    private_raw = predict_split(classifier, private_x, raw=True)
    private_calibrated = with_temperature(private_raw, temperature)
    guesses = private_calibrated.max(axis=1) < line
    correct = private_calibrated.argmax(axis=1) == private_y
    trained_on = class_shares(data.split("Training")[1])
    lecture = lecture_prior(trained_on)
    public_lecture = with_prior(public_calibrated, lecture, trained_on)
    judged, truth = np.arange(len(public_y)), public_y
    if votes is not None:
        crowd = ferplus.majority(ferplus.load_votes(votes, "PublicTest"))
        if len(crowd) != len(public_y):
            raise fer2013.DataError(f"{votes}: {len(crowd)} PublicTest vote rows for {len(public_y)} faces")
        judged = np.flatnonzero(crowd >= 0)
        truth = crowd[judged]
    lecture_line = uncertain_threshold(public_lecture[judged], truth, balance_weights(truth, lecture))
    result = {
        "model": str(model_path),
        "view": view,
        "flip_average": classifier.flip_average,
        "mirror_below": classifier.mirror_below,
        "public_test_mirrored": mirrored_share,
        "temperature": round(temperature, 4),
        "uncertain_below": line,
        "public_test_ece": {
            "raw": expected_calibration_error(public_raw, public_y),
            "calibrated": expected_calibration_error(public_calibrated, public_y),
        },
        "private_test_ece": {
            "raw": expected_calibration_error(private_raw, private_y),
            "calibrated": expected_calibration_error(private_calibrated, private_y),
        },
        "private_test_guesses": {
            "share": float(guesses.mean()),
            "accuracy_of_guesses": float(correct[guesses].mean()) if guesses.any() else None,
            "accuracy_of_the_rest": float(correct[~guesses].mean()) if (~guesses).any() else None,
        },
        "training_prior": [round(float(p), 4) for p in trained_on],
        "lecture_prior": [round(float(p), 4) for p in lecture],
        "lecture_uncertain_below": lecture_line,
        "lecture_line_judged_by": (
            f"the FER+ crowd's majority ({len(judged)} PublicTest faces)" if votes else "FER2013 labels"
        ),
        # PrivateTest weighted to the lecture's class balance, read as the product reads a lecture
        "private_test_lecture": lecture_figures(private_calibrated, private_y, lecture, trained_on, lecture_line),
    }
    if write:
        contract = replace(
            classifier.contract,
            temperature=result["temperature"],
            uncertain_below=line,
            training_prior=tuple(result["training_prior"]),
            lecture_prior=tuple(result["lecture_prior"]),
            lecture_uncertain_below=lecture_line,
            flip_average=classifier.flip_average,
            mirror_below=classifier.mirror_below,
        )
        write_contract(model_path, contract)
    if out is not None:
        from training.plots import plot_reliability

        out.mkdir(parents=True, exist_ok=True)
        curves = {
            f"raw (ECE {result['private_test_ece']['raw']:.1%})": reliability(private_raw, private_y),
            f"T = {temperature:.2f} (ECE {result['private_test_ece']['calibrated']:.1%})": reliability(
                private_calibrated, private_y
            ),
        }
        plot_reliability(curves, out / "reliability_PrivateTest.png", "PrivateTest, 15 bins")
        (out / "calibration.json").write_text(json.dumps(result, indent=2))
    return result


def single_views(classifier, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's raw probabilities for each face read alone, and for its mirror image alone."""
    from training.evaluate import predict_split

    flips, classifier.flip_average = classifier.flip_average, False
    try:
        mirrors = np.ascontiguousarray(faces[:, :, ::-1])
        return predict_split(classifier, faces, raw=True), predict_split(classifier, mirrors, raw=True)
    finally:
        classifier.flip_average = flips
