"""The shipped CNN served by onnxruntime: the same weights, without importing TensorFlow.

TensorFlow takes seconds and hundreds of MB to import; the agent only needs the forward pass.
The `.keras` file is a zip of a JSON config and an HDF5 file of weights, both readable without
TensorFlow, and the network (`core.model.make_model` with BN folded: 3x3 "same" convolutions
with ReLU, 2x2 max pooling, global average pooling, two dense layers) maps one-to-one onto
ONNX operators. The graph is built in memory at load; `bench.serving` and tests/test_serving.py
check it gives the Keras outputs to 1e-5. A file with other layers is refused (ModelFileError),
and the caller falls back to TensorFlow.

A file may also carry the same network in 8-bit integers (`classmood quantize`, entry
`int8.onnx`): 1.7x faster on this CPU, which is what pays for reading each face and its mirror
within the 30 ms budget. It is served only while it matches the file's weights.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np

from core.model import ModelFileError

IDENTITY_AT_INFERENCE = {"InputLayer", "SpatialDropout2D", "Dropout"}
INT8_ENTRY = "int8.onnx"
WEIGHTS_ENTRY = "model.weights.h5"
WEIGHTS_DIGEST = "weights_sha256"  # the int8 graph's metadata: which weights it was made from

logger = logging.getLogger(__name__)


def _weights_in_order(h5) -> list[list[np.ndarray]]:
    """Each weighted layer's arrays, in creation order (conv2d, conv2d_1, ..., dense, dense_1)."""

    def order(name: str) -> tuple[int, int]:
        kind, _, number = re.fullmatch(r"(conv2d|dense)(_(\d+))?", name).groups()
        return (0 if kind == "conv2d" else 1, int(number or 0))

    names = sorted((n for n in h5["layers"] if re.fullmatch(r"(conv2d|dense)(_\d+)?", n)), key=order)
    return [[np.asarray(h5["layers"][n]["vars"][str(i)]) for i in range(len(h5["layers"][n]["vars"]))] for n in names]


def onnx_graph(path: str | Path) -> bytes:
    """The model file's network as a serialized ONNX model (input "face": N x 48 x 48 x 1,
    output N x the last layer's units)."""
    import h5py
    from onnx import TensorProto, helper, numpy_helper

    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
        with h5py.File(io.BytesIO(zf.read(WEIGHTS_ENTRY)), "r") as h5:
            weights = _weights_in_order(h5)
    layers = config["config"]["layers"]
    nodes, inits = [], []
    size = layers[0]["config"]["batch_shape"][1]
    current = "face_nchw"
    nodes.append(helper.make_node("Transpose", ["face"], [current], perm=[0, 3, 1, 2]))
    arrays = iter(weights)
    for index, layer in enumerate(layers):
        kind, cfg, out = layer["class_name"], layer["config"], f"t{index}"
        if kind in IDENTITY_AT_INFERENCE:
            continue
        if kind == "Rescaling":
            inits.append(numpy_helper.from_array(np.array(cfg["scale"], np.float32), f"scale{index}"))
            nodes.append(helper.make_node("Mul", [current, f"scale{index}"], [out]))
        elif kind == "Conv2D":
            if (
                cfg["padding"] != "same"
                or tuple(cfg["strides"]) != (1, 1)
                or cfg["activation"] not in ("relu", "linear")
            ):
                raise ModelFileError(f"{path}: layer {cfg['name']} has no onnxruntime twin here")
            kernel, bias = next(arrays)
            inits += [
                numpy_helper.from_array(kernel.transpose(3, 2, 0, 1).astype(np.float32), f"w{index}"),
                numpy_helper.from_array(bias.astype(np.float32), f"b{index}"),
            ]
            k = kernel.shape[0]
            conv = out if cfg["activation"] == "linear" else f"c{index}"
            nodes.append(helper.make_node("Conv", [current, f"w{index}", f"b{index}"], [conv], pads=[k // 2] * 4))
            if cfg["activation"] == "relu":
                nodes.append(helper.make_node("Relu", [conv], [out]))
        elif kind == "MaxPooling2D":
            pool = list(cfg["pool_size"])
            nodes.append(helper.make_node("MaxPool", [current], [out], kernel_shape=pool, strides=list(cfg["strides"])))
        elif kind == "GlobalAveragePooling2D":
            nodes.append(helper.make_node("GlobalAveragePool", [current], [f"g{index}"]))
            nodes.append(helper.make_node("Flatten", [f"g{index}"], [out]))
        elif kind == "Dense":
            kernel, bias = next(arrays)
            inits += [
                numpy_helper.from_array(kernel.astype(np.float32), f"w{index}"),
                numpy_helper.from_array(bias.astype(np.float32), f"b{index}"),
            ]
            activation = {"relu": "Relu", "softmax": "Softmax"}.get(cfg["activation"])
            dense = f"d{index}" if activation else out
            nodes.append(helper.make_node("Gemm", [current, f"w{index}", f"b{index}"], [dense]))
            if activation:
                nodes.append(
                    helper.make_node(activation, [dense], [out], **({"axis": 1} if activation == "Softmax" else {}))
                )
        else:
            raise ModelFileError(f"{path}: layer type {kind} has no onnxruntime twin here")
        current = out
    graph = helper.make_graph(
        nodes,
        config["config"]["name"],
        [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["n", size, size, 1])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["n", layers[-1]["config"]["units"]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="classmood")
    model.ir_version = 8
    return model.SerializeToString()


def weights_digest(path: str | Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return hashlib.sha256(zf.read(WEIGHTS_ENTRY)).hexdigest()


def served_graph(path: str | Path) -> tuple[bytes, str]:
    """(graph, "int8") where the file carries an int8 graph made from its own weights, else the
    float graph built from them, (graph, "float32")."""
    import onnx
    from google.protobuf.message import DecodeError

    with zipfile.ZipFile(path) as zf:
        if INT8_ENTRY in zf.namelist():
            graph = zf.read(INT8_ENTRY)
            try:
                made_from = {p.key: p.value for p in onnx.load_from_string(graph).metadata_props}.get(WEIGHTS_DIGEST)
            except DecodeError:
                made_from = None
            if made_from == weights_digest(path):
                return graph, "int8"
            logger.warning(
                "%s: its int8 graph is damaged or made from other weights; serving the float one", Path(path).name
            )
    return onnx_graph(path), "float32"


class OnnxForward:
    """`forward(x)` for x: (n, 48, 48, 1) float32 pixels 0-255 -> (n, 7) probabilities."""

    def __init__(self, path: str | Path, threads: int = 2, graph: bytes | None = None):
        """graph: serve this serialized graph (e.g. `onnx_graph(path)`, the float one) instead
        of the one `served_graph` picks."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # No busy-waiting between runs: a meeting expert's session (and the agent's other ones)
        # would otherwise find both cores taken by this one's idle threads (2x slower, measured).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            graph, self.precision = (graph, "given") if graph is not None else served_graph(path)
        except (KeyError, ValueError, AttributeError, StopIteration) as exc:
            raise ModelFileError(f"{path}: cannot be served by onnxruntime ({exc})") from None
        self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"face": np.ascontiguousarray(x, np.float32)})[0]
