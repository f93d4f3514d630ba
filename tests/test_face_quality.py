"""The quality gate and the model pair: which network reads a face, and how their readings blend."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from core.face_quality import MEASURES, QualityGate, quality_measures, with_products

N_WEIGHTS = len(MEASURES) + len(MEASURES) * (len(MEASURES) + 1) // 2 + 1


def constant_gate(logit: float, band=(0.25, 0.75)) -> QualityGate:
    """A gate that says the same of every face: degraded with probability sigmoid(logit)."""
    k = len(MEASURES)
    return QualityGate((0.0,) * k, (1.0,) * k, (0.0,) * (N_WEIGHTS - 1) + (logit,), band)


def pair(tmp_path, tiny_model_file, gate: QualityGate | None, lines=(None, None)):
    """A clean-face model (the tiny one) and a meeting expert (another tiny model, other
    weights) carrying `gate`; `lines`: their guess lines."""
    import keras

    from core.model import Contract, make_model, read_contract, save_model, write_contract

    keras.utils.set_random_seed(7)
    gate_numbers = gate.as_dict() if gate else None
    expert = save_model(
        make_model(widths=(4, 8, 8, 8), dense=8),
        tmp_path / "expert.keras",
        Contract(model_version="expert", temperature=1.0, uncertain_below=lines[1], quality_gate=gate_numbers),
    )
    primary = shutil.copy(tiny_model_file, tmp_path / "primary.keras")
    write_contract(primary, replace(read_contract(primary), temperature=1.0, uncertain_below=lines[0]))
    return primary, expert


def face_like(seed: int, n: int = 20) -> np.ndarray:
    """Textured 48x48 images (smoothed noise with a gradient): fine detail like a face crop."""
    rng = np.random.default_rng(seed)
    import cv2

    out = []
    for _ in range(n):
        noise = cv2.GaussianBlur(rng.normal(128, 60, (48, 48)).astype(np.float32), (0, 0), 0.7)
        out.append(np.clip(noise + np.linspace(-30, 30, 48)[None, :], 0, 255).astype(np.uint8))
    return np.stack(out)


def test_measures_see_small_blurred_and_dim_faces():
    from training.degrade import downscaled, low_light

    clean = face_like(0, 10)
    small = np.stack([downscaled(face, 20) for face in clean])
    dim = np.stack([low_light(face, np.random.default_rng(1)) for face in clean])
    fine, mean = MEASURES.index("fine detail (log std after removing a 1 px blur)"), MEASURES.index("mean grey level")
    assert quality_measures(clean).shape == (10, len(MEASURES))
    assert (quality_measures(small)[:, fine] < quality_measures(clean)[:, fine] - 1).all()
    assert (quality_measures(dim)[:, mean] < 0.6 * quality_measures(clean)[:, mean]).all()


def test_products_are_every_pair_once_and_a_constant():
    z = np.array([[2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(with_products(z), [[2, 3, 4, 6, 9, 1]])


def test_a_fitted_gate_tells_degraded_faces_from_clean_ones():
    from training.meeting_gate import fit_gate

    clean = face_like(2, 60)
    from training.degrade import blurred

    degraded = np.stack([blurred(face, 1.5) for face in face_like(3, 60)])
    gate = fit_gate(np.concatenate([clean, degraded]), np.r_[np.zeros(60), np.ones(60)].astype(np.float32), steps=500)
    assert gate.expert_share(face_like(4, 20)).mean() < 0.1  # faces it never saw
    assert gate.expert_share(np.stack([blurred(face, 1.5) for face in face_like(5, 20)])).mean() > 0.9


def test_expert_share_rises_across_the_band():
    crops = np.zeros((1, 48, 48), np.uint8)
    shares = [float(constant_gate(np.log(p / (1 - p))).expert_share(crops)[0]) for p in (0.1, 0.25, 0.5, 0.7, 0.9)]
    np.testing.assert_allclose(shares, [0.0, 0.0, 0.5, 0.9, 1.0], atol=1e-5)


def test_a_gate_with_the_wrong_numbers_is_refused():
    good = constant_gate(0.0).as_dict()
    with pytest.raises(ValueError, match="measures"):
        QualityGate.from_dict(good | {"mean": [0.0] * 3})
    with pytest.raises(ValueError, match="band"):
        QualityGate.from_dict(good | {"band": [0.8, 0.2]})
    assert QualityGate.from_dict(good) == constant_gate(0.0)


@pytest.mark.parametrize("logit, expert_share", [(-20.0, 0.0), (20.0, 1.0), (0.0, 0.5)])
def test_the_pair_reads_each_face_with_the_network_its_quality_calls_for(
    tiny_model_file, tmp_path, logit, expert_share
):
    from core.emotions import EmotionClassifier

    primary, expert = pair(tmp_path, tiny_model_file, constant_gate(logit))
    crops = np.random.default_rng(0).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    alone = EmotionClassifier(primary).probabilities(crops)
    by_expert = EmotionClassifier(expert).probabilities(crops)
    assert not np.allclose(alone, by_expert)  # two different networks
    expected = (1 - expert_share) * alone + expert_share * by_expert
    paired = EmotionClassifier(primary, meeting_expert=expert)
    np.testing.assert_allclose(paired.probabilities(crops), expected, rtol=1e-5, atol=1e-7)


def test_a_blended_reading_is_a_guess_under_the_blended_line(tiny_model_file, tmp_path):
    from core.emotions import EmotionClassifier

    primary, expert = pair(tmp_path, tiny_model_file, constant_gate(0.0), lines=(0.9, 0.1))
    classifier = EmotionClassifier(primary, meeting_expert=expert)
    crops = np.random.default_rng(1).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    probabilities, guesses = classifier.readings(crops)
    np.testing.assert_array_equal(guesses, probabilities.max(axis=1) < 0.5)  # half of 0.9 + half of 0.1
    assert [e.uncertain for e in classifier.classify(crops)] == guesses.tolist()


def test_a_missing_or_broken_expert_is_one_clear_line(tiny_model_file, tmp_path):
    from core.emotions import EmotionClassifier
    from core.model import ModelFileError, read_contract, write_contract

    primary, expert = pair(tmp_path, tiny_model_file, None)
    with pytest.raises(ModelFileError, match="not a meeting expert"):
        EmotionClassifier(primary, meeting_expert=expert)
    write_contract(expert, replace(read_contract(expert), quality_gate={"mean": [0.0]}))
    with pytest.raises(ModelFileError, match="quality gate cannot be read"):
        EmotionClassifier(primary, meeting_expert=expert)
    with pytest.raises(ModelFileError, match="not found"):
        EmotionClassifier(primary, meeting_expert=tmp_path / "absent.keras")


def test_fit_gate_writes_the_gate_into_the_expert(fer_csv, tiny_model_file, tmp_path):
    from click.testing import CliRunner

    from classmood.cli import main
    from core.emotions import EmotionClassifier
    from core.model import read_contract

    primary, expert = pair(tmp_path, tiny_model_file, None)
    weights_before = read_weights(expert)
    result = CliRunner().invoke(main, ["fit-gate", "--data", str(fer_csv), "--expert", str(expert), "--faces", "400"])
    assert result.exit_code == 0, result.output
    assert "low light 100%" in result.output
    assert read_contract(expert).quality_gate is not None and read_weights(expert) == weights_before
    assert read_contract(expert).quality_gate["band"] == [0.25, 0.75]
    clean = np.stack([np.asarray(face) for face in face_like(6, 4)])
    assert EmotionClassifier(primary, meeting_expert=expert).probabilities(clean).shape == (4, 7)

    args = ["fit-gate", "--data", str(fer_csv), "--expert", str(expert), "--faces", "400", "--band"]
    result = CliRunner().invoke(main, [*args, "0.1", "0.4"])
    assert result.exit_code == 0, result.output
    assert EmotionClassifier(primary, meeting_expert=expert).gate.band == (0.1, 0.4)
    result = CliRunner().invoke(main, [*args, "0.5", "0.2"])
    assert result.exit_code != 0 and "the band must rise" in result.output
    assert EmotionClassifier(primary, meeting_expert=expert).gate.band == (0.1, 0.4)


def read_weights(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read("model.weights.h5")


def test_the_shipped_model_reads_with_its_meeting_expert():
    """The shipped model names its expert and pairs with it unless told not to: the expert
    carries its gate and a calibration fitted on faces as meetings show them; a dim face goes
    to it and a clean one stays with the clean model (most of its reading, where it looks a
    little coded)."""
    from core.emotions import EmotionClassifier
    from core.model import MEETING_EXPERT, SHIPPED_MODEL, read_contract
    from training.degrade import low_light

    contract = read_contract(MEETING_EXPERT)
    assert contract.calibrated and contract.quality_gate is not None
    assert f"emotion CNN v{contract.model_version}" in (MEETING_EXPERT.parent / "MODEL_CARD.md").read_text()
    assert read_contract(SHIPPED_MODEL).meeting_expert == MEETING_EXPERT.name
    assert EmotionClassifier(meeting_expert=False).expert is None
    classifier = EmotionClassifier()
    assert classifier.expert is not None and classifier.expert.path == MEETING_EXPERT
    faces = face_like(8, 10)
    dim = np.stack([low_light(face, np.random.default_rng(2)) for face in faces])
    assert classifier.gate.expert_share(dim).min() == 1.0
    clean = classifier.gate.expert_share(faces)
    assert np.median(clean) == 0.0 and clean.max() < 0.5, clean


def test_a_model_whose_expert_is_missing_reads_alone_and_says_so(tmp_path, caplog):
    """The shipped model copied without its expert still reads (every face by itself), and the
    log names the missing file."""
    import shutil

    from core.emotions import EmotionClassifier
    from core.model import SHIPPED_MODEL

    lone = shutil.copy(SHIPPED_MODEL, tmp_path / "emotion_cnn.keras")
    with caplog.at_level("WARNING"):
        classifier = EmotionClassifier(lone)
    assert classifier.expert is None
    assert "emotion_cnn_meeting.keras, which is missing" in caplog.text
    assert classifier.probabilities(face_like(3, 4)).shape == (4, 7)


def test_classmood_pair_names_the_expert_a_model_then_reads_with(tmp_path, tiny_model_file):
    """`classmood pair` writes the expert's name into the model's contract: the model then
    pairs with it by itself. An expert in another folder, or a file without a gate, is refused
    with one clear line and the contract is left as it was."""
    from core.emotions import EmotionClassifier
    from core.model import read_contract
    from tests.test_cli import assert_clean_error, classmood

    primary, expert = pair(tmp_path, tiny_model_file, constant_gate(0.0))
    assert EmotionClassifier(primary).expert is None
    versions = ("--model-version", "9.1", "--expert-version", "9.2")
    done = classmood("pair", "--model", primary, "--expert", expert, *versions)
    assert done.returncode == 0, done.stderr
    assert read_contract(primary).meeting_expert == "expert.keras" and read_contract(primary).model_version == "9.1"
    assert read_contract(expert).model_version == "9.2" and read_contract(expert).quality_gate is not None
    assert EmotionClassifier(primary).expert.path == expert
    assert EmotionClassifier(primary, meeting_expert=False).expert is None

    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    lone = shutil.copy(tiny_model_file, elsewhere / "lone.keras")
    assert_clean_error(classmood("pair", "--model", lone, "--expert", expert), "same folder")
    plain = shutil.copy(tiny_model_file, tmp_path / "plain.keras")
    assert_clean_error(classmood("pair", "--model", primary, "--expert", plain), "not a meeting expert")
    assert read_contract(lone).meeting_expert is None and read_contract(primary).meeting_expert == "expert.keras"
