"""The CNN served by onnxruntime gives TensorFlow's outputs, and a file it cannot serve falls back."""

import json
import zipfile

import numpy as np
import pytest

from core.model import CONTRACT_ENTRY, SHIPPED_MODEL, Contract, ModelFileError


def crops(n=25, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize("which", ["tiny", "shipped"])
def test_onnxruntime_gives_the_tensorflow_outputs(which, tiny_model_file, tmp_path):
    """The float graph built from the file's weights (the shipped file's int8 graph is tested
    against it in tests/test_quantize.py)."""
    from core.emotions import EmotionClassifier

    path = tiny_model_file
    if which == "shipped":
        path = tmp_path / "float.keras"
        with zipfile.ZipFile(SHIPPED_MODEL) as shipped, zipfile.ZipFile(path, "w") as copy:
            for item in shipped.infolist():
                if item.filename != "int8.onnx":
                    copy.writestr(item, shipped.read(item.filename))
    served = EmotionClassifier(path)
    assert served.backend == "onnxruntime"
    reference = EmotionClassifier(path, backend="tensorflow")
    x = crops()
    np.testing.assert_allclose(served.probabilities(x, raw=True), reference.probabilities(x, raw=True), atol=1e-5)
    np.testing.assert_allclose(served.probabilities(x), reference.probabilities(x), atol=1e-5)


def test_a_layer_without_an_onnx_twin_falls_back_to_tensorflow(tmp_path):
    import keras

    from core.emotions import EmotionClassifier

    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)  # unfolded: no twin in core.onnx_model
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    path = tmp_path / "odd.keras"
    keras.Model(inputs, outputs).save(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(CONTRACT_ENTRY, json.dumps(Contract().__dict__ | {"labels": list(Contract().labels)}))
    assert EmotionClassifier(path).backend == "tensorflow"
    with pytest.raises(ModelFileError, match="onnxruntime"):
        EmotionClassifier(path, backend="onnxruntime")
