"""`classmood quantize`: store the model's network in 8-bit integers inside its own file.

Why: on a 2-core CPU the float network reads 25 faces in ~24 ms; reading each face and its
mirror (a steadier, more accurate reading) would double that, past the 30 ms budget. Integer
convolutions take ~14 ms for 25. The scales of each layer's activations are measured on
FER2013 Training faces and their mirrors (never a test split): onnxruntime's static
quantization, per-channel weights, 7-bit activations where this CPU has no VNNI instructions
(`reduce_range`, as onnxruntime advises for AVX2), min-max ranges.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

CALIBRATION_BATCH = 100


def calibration_faces(images: np.ndarray, faces: int, seed: int = 0) -> np.ndarray:
    """`faces` Training faces drawn without replacement, each followed by its mirror: (2*faces, 48, 48, 1)."""
    pick = np.random.default_rng(seed).choice(len(images), size=min(faces, len(images)), replace=False)
    chosen = images[np.sort(pick)].astype(np.float32)
    return np.concatenate([chosen, chosen[:, :, ::-1]])[..., None]


def int8_graph(model_path: Path, faces: np.ndarray) -> bytes:
    """The model file's network, quantized with activation ranges measured on `faces`."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from core.onnx_model import WEIGHTS_DIGEST, onnx_graph, weights_digest

    class Faces(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(range(0, len(faces), CALIBRATION_BATCH))

        def get_next(self):
            start = next(self._batches, None)
            return None if start is None else {"face": faces[start : start + CALIBRATION_BATCH]}

    with tempfile.TemporaryDirectory() as folder:
        plain, prepared, quantized = (Path(folder) / name for name in ("float.onnx", "prepared.onnx", "int8.onnx"))
        plain.write_bytes(onnx_graph(model_path))
        quant_pre_process(plain, prepared, skip_symbolic_shape=True)
        quantize_static(prepared, quantized, Faces(), quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True)
        model = onnx.load(quantized)
    onnx.helper.set_model_props(model, {WEIGHTS_DIGEST: weights_digest(model_path)})
    return model.SerializeToString()


def quantize(data_path: Path, model_path: Path, faces: int = 2000) -> dict:
    """Write the int8 graph into `model_path`; compare it with the float graph on PublicTest, face by face."""
    from core.model import read_contract, write_entries
    from core.onnx_model import INT8_ENTRY, OnnxForward, onnx_graph
    from training import fer2013
    from training.config import default_cache_dir

    data = fer2013.load(data_path, default_cache_dir())
    training_x = data.split("Training")[0]
    graph = int8_graph(model_path, calibration_faces(training_x, faces))
    public_x, public_y = data.split("PublicTest")
    public_x = public_x[..., None].astype(np.float32)
    before = OnnxForward(model_path, graph=onnx_graph(model_path))(public_x)
    after = OnnxForward(model_path, graph=graph)(public_x)
    write_entries(model_path, {INT8_ENTRY: graph})
    return {
        "model": str(model_path),
        "calibrated": read_contract(model_path).calibrated,
        "calibration_faces": 2 * min(faces, len(training_x)),
        "public_test_float": float((before.argmax(1) == public_y).mean()),
        "public_test_int8": float((after.argmax(1) == public_y).mean()),
        "same_top_emotion": float((before.argmax(1) == after.argmax(1)).mean()),
        "largest_probability_change": float(np.abs(before - after).max()),
    }
