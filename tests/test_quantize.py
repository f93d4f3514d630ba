"""The int8 graph a model file carries (`classmood quantize`) reads as its float network does,
is served only with the weights it was made from, and a file that says so reads each face with
its mirror."""

import logging
import shutil
import zipfile
from dataclasses import replace

import numpy as np

from core.model import SHIPPED_MODEL, read_contract, write_contract, write_entries
from core.onnx_model import INT8_ENTRY, WEIGHTS_ENTRY, OnnxForward, onnx_graph


def crops(n=25, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def test_the_shipped_int8_graph_reads_faces_as_the_float_network(fer_small):
    from core.emotions import EmotionClassifier

    assert EmotionClassifier().served_by == "onnxruntime int8"
    faces = fer_small.split("PublicTest")[0][..., None].astype(np.float32)
    floating = OnnxForward(SHIPPED_MODEL, graph=onnx_graph(SHIPPED_MODEL))(faces)
    integer = OnnxForward(SHIPPED_MODEL)(faces)
    assert (floating.argmax(1) == integer.argmax(1)).mean() >= 0.95
    assert np.abs(floating - integer).mean() < 0.01


def test_an_int8_graph_is_served_only_with_the_weights_it_was_made_from(tiny_model_file, tmp_path, caplog):
    import keras

    from core.emotions import EmotionClassifier
    from core.model import Contract, make_model, save_model
    from training.quantize import calibration_faces, int8_graph

    path = shutil.copy(tiny_model_file, tmp_path / "tiny.keras")
    write_entries(path, {INT8_ENTRY: int8_graph(path, calibration_faces(crops(60, seed=1), 30))})
    served = EmotionClassifier(path)
    assert served.served_by == "onnxruntime int8"
    reference = EmotionClassifier(tiny_model_file).probabilities(crops(), raw=True)
    assert np.abs(served.probabilities(crops(), raw=True) - reference).max() < 0.05
    write_contract(path, replace(read_contract(path), model_version="renamed"))  # the graph survives a new contract
    assert EmotionClassifier(path).served_by == "onnxruntime int8"

    keras.utils.set_random_seed(1)
    other = save_model(make_model(widths=(4, 8, 8, 8), dense=8), tmp_path / "other.keras", Contract())
    with zipfile.ZipFile(other) as zf:
        write_entries(path, {WEIGHTS_ENTRY: zf.read(WEIGHTS_ENTRY)})  # new weights, the old int8 graph
    with caplog.at_level(logging.WARNING):
        stale = EmotionClassifier(path)
    assert stale.served_by == "onnxruntime float32"
    assert "made from other weights" in caplog.text
    np.testing.assert_allclose(
        stale.probabilities(crops(), raw=True), EmotionClassifier(other).probabilities(crops(), raw=True), atol=1e-6
    )
    write_entries(path, {INT8_ENTRY: b"not a graph"})
    assert EmotionClassifier(path).served_by == "onnxruntime float32"


def test_a_file_that_flips_reads_a_face_and_its_mirror_alike(tiny_model_file, tmp_path):
    from core.emotions import EmotionClassifier

    path = shutil.copy(tiny_model_file, tmp_path / "flips.keras")
    write_contract(path, replace(read_contract(path), flip_average=True))
    flips, plain = EmotionClassifier(path), EmotionClassifier(tiny_model_file)
    x = crops()
    mirrored = x[:, :, ::-1]
    np.testing.assert_allclose(flips.probabilities(x), flips.probabilities(mirrored), atol=1e-6)
    by_hand = (plain.probabilities(x, raw=True) + plain.probabilities(mirrored, raw=True)) / 2
    np.testing.assert_allclose(flips.probabilities(x, raw=True), by_hand, atol=1e-6)
    assert np.abs(plain.probabilities(x) - plain.probabilities(mirrored)).max() > 1e-5  # the net alone does not


def test_a_file_with_a_mirror_line_mirrors_only_the_faces_under_it(tiny_model_file, tmp_path):
    """Under the line, a face reads as the mean of it and its mirror; over it, as itself."""
    from core.emotions import EmotionClassifier

    plain = EmotionClassifier(tiny_model_file)
    x = crops(40)
    alone, mirrored = plain.probabilities(x, raw=True), plain.probabilities(x[:, :, ::-1], raw=True)
    line = float(np.median(alone.max(axis=1)))
    path = shutil.copy(tiny_model_file, tmp_path / "line.keras")
    write_contract(path, replace(read_contract(path), flip_average=True, mirror_below=line))
    unsure = alone.max(axis=1) < line
    assert 0 < unsure.sum() < len(x)
    by_hand = np.where(unsure[:, None], (alone + mirrored) / 2, alone)
    np.testing.assert_allclose(EmotionClassifier(path).probabilities(x, raw=True), by_hand, atol=1e-6)


def test_calibrating_with_flips_says_so_in_the_contract(fer_csv, tiny_model_file, tmp_path):
    from core.emotions import EmotionClassifier
    from training import fer2013
    from training.calibrate import calibrate
    from training.config import default_cache_dir

    path = shutil.copy(tiny_model_file, tmp_path / "calibrated.keras")
    result = calibrate(fer_csv, path, flip_average=True)
    assert result["flip_average"] is True and 0 <= result["public_test_mirrored"] <= 1
    contract = read_contract(path)
    assert contract.flip_average and contract.calibrated and contract.mirror_below == result["mirror_below"]
    # the fitted line keeps every PublicTest answer of mirroring every face
    public = fer2013.load(fer_csv, default_cache_dir()).split("PublicTest")[0]
    every = EmotionClassifier(shutil.copy(path, tmp_path / "every.keras"))
    every.mirror_below = 1.0
    fitted = EmotionClassifier(path).probabilities(public, raw=True)
    np.testing.assert_array_equal(fitted.argmax(1), every.probabilities(public, raw=True).argmax(1))
    calibrate(fer_csv, path)  # None: as the file says
    assert read_contract(path).flip_average
    calibrate(fer_csv, path, flip_average=False)
    assert not read_contract(path).flip_average


def test_a_file_without_an_int8_graph_is_served_as_float(tiny_model_file):
    from core.emotions import EmotionClassifier

    with zipfile.ZipFile(tiny_model_file) as zf:
        assert INT8_ENTRY not in zf.namelist()
    assert EmotionClassifier(tiny_model_file).served_by == "onnxruntime float32"


def test_classmood_quantize_writes_the_graph_and_says_what_it_changed(fer_csv, tiny_model_file, tmp_path):
    from click.testing import CliRunner

    from classmood.cli import main
    from core.emotions import EmotionClassifier

    path = shutil.copy(tiny_model_file, tmp_path / "tiny.keras")
    result = CliRunner().invoke(main, ["quantize", "--data", str(fer_csv), "--model", str(path), "--faces", "100"])
    assert result.exit_code == 0, result.output
    assert "(float) ->" in result.output and "(int8)" in result.output
    assert "calibrate" not in result.output  # an uncalibrated file has no temperature to refit
    assert EmotionClassifier(path).served_by == "onnxruntime int8"
