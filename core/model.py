"""The emotion CNN: its definition, and the model file that carries its preprocessing contract.

A `.keras` file is a zip archive. Next to Keras' own entries we store `classmood.json`, the
contract that says how faces must be prepared for this model (input size, normalization,
label order, version). Loading checks the contract before Keras sees the file, so a missing,
truncated or foreign file fails with one clear line instead of a deep traceback.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.labels import EMOTIONS

CONTRACT_ENTRY = "classmood.json"
FORMAT = "classmood-emotion-model"
FORMAT_VERSION = 1
SHIPPED_MODEL = Path(__file__).parent / "assets" / "emotion_cnn.keras"
MEETING_EXPERT = Path(__file__).parent / "assets" / "emotion_cnn_meeting.keras"  # the shipped model's partner


class ModelFileError(RuntimeError):
    """The model file cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True)
class Contract:
    """How a face crop must be prepared for the model, saved inside the model file."""

    input_size: int = 48
    channels: int = 1
    normalization: str = "pixel/255 inside the model; feed uint8-range floats"
    labels: tuple[str, ...] = EMOTIONS
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    model_version: str = "dev"
    # Fitted on PublicTest by `classmood calibrate` (core.calibration); None: uncalibrated.
    temperature: float | None = None
    uncertain_below: float | None = None  # a calibrated top probability under this is a guess
    # The lecture reading (core.calibration.with_prior): the class balance the net learned, the
    # one assumed of a lecture, and the guess line under it. None: read as FER2013 only.
    training_prior: tuple[float, ...] | None = None
    lecture_prior: tuple[float, ...] | None = None
    lecture_uncertain_below: float | None = None
    # On a meeting expert: core.face_quality.QualityGate's numbers, which faces it should read
    # when paired with a clean-face model (`classmood fit-gate`). None: not an expert.
    quality_gate: dict | None = None
    # Read each face and its mirror image and average the two (calibrated so, `classmood calibrate
    # --flip-average`): a reading that moves less with a few pixels of crop, at twice the net's cost.
    flip_average: bool = False
    # With flip_average, only a face whose own reading's top probability (the network's, before
    # calibration) is under this is read mirrored too: a surer face's mirror changed no answer
    # on PublicTest (core.calibration.mirror_line). 1.0: every face.
    mirror_below: float = 1.0
    # A meeting expert file beside this one (its name): the faces core.face_quality finds
    # small, coded, blurred or dim are read by it (core.emotions). None: this network alone.
    meeting_expert: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def calibrated(self) -> bool:
        return self.temperature is not None

    @classmethod
    def from_json(cls, text: str) -> Contract:
        raw = json.loads(text)
        raw["labels"] = tuple(raw["labels"])
        for key in ("training_prior", "lecture_prior"):
            if raw.get(key) is not None:
                raw[key] = tuple(raw[key])
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


@dataclass(frozen=True)
class Head:
    """A network's output layer: its name, width and activation, and the network's name."""

    name: str
    units: int
    activation: str
    model_name: str


EMOTION_HEAD = Head("emotion", len(EMOTIONS), "softmax", "classmood_emotion_cnn")
POSE_HEAD = Head("pose", 2, "linear", "classmood_head_pose")  # yaw, pitch (training.head_pose)


def make_model(
    input_size: int = 48,
    widths: tuple[int, ...] = (16, 48, 128, 256),
    dense: int = 256,
    dropout: float = 0.4,
    batchnorm: bool = True,
    head: Head | None = None,
):
    """A VGG-style CNN sized for a 2-core CPU: cheap full-resolution stage, wide deep stages.

    The first stage is narrow because at 48x48 it costs the most; later stages run on 24, 12
    and 6 px maps and can afford width. Rescaling sits inside the model so inference cannot
    drift from training. `batchnorm=False` builds the inference twin that `fold_batchnorm`
    fills: the same function with each BatchNormalization merged into its convolution.
    `head` swaps the emotion output for another (the head pose net is this body, narrower).
    """
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for stage, width in enumerate(widths):
        for conv in range(2):
            if batchnorm:
                x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"s{stage}_conv{conv}")(x)
                x = layers.BatchNormalization(name=f"s{stage}_bn{conv}")(x)
                x = layers.Activation("relu")(x)
            else:
                x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"s{stage}_conv{conv}")(x)
        x = layers.MaxPooling2D(name=f"s{stage}_pool")(x)
        x = layers.SpatialDropout2D(0.1 * (stage + 1) / len(widths), name=f"s{stage}_drop")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(dense, activation="relu", name="head_dense")(x)
    x = layers.Dropout(dropout)(x)
    head = head or EMOTION_HEAD
    outputs = layers.Dense(head.units, activation=head.activation, name=head.name)(x)
    return keras.Model(inputs, outputs, name=head.model_name)


def fold_batchnorm(model):
    """The same network with every BatchNormalization folded into the convolution before it.

    At inference BN is a fixed per-channel scale and shift, so it can live in the conv's
    weights and bias: ~12 % less time per batch on a 2-core CPU, identical outputs.
    """
    convs = [layer for layer in model.layers if layer.name.endswith(("_conv0", "_conv1"))]
    widths = tuple(layer.filters for layer in convs[::2])
    dense = model.get_layer("head_dense").units
    out = model.layers[-1]
    head = Head(out.name, out.units, out.get_config()["activation"], model.name)
    folded = make_model(model.input_shape[1], widths=widths, dense=dense, batchnorm=False, head=head)
    for conv in convs:
        bn = model.get_layer(conv.name.replace("_conv", "_bn"))
        gamma, beta, mean, variance = bn.get_weights()
        scale = gamma / np.sqrt(variance + bn.epsilon)
        (kernel,) = conv.get_weights()
        folded.get_layer(conv.name).set_weights([kernel * scale, beta - mean * scale])
    for name in ("head_dense", head.name):
        folded.get_layer(name).set_weights(model.get_layer(name).get_weights())
    return folded


def save_model(model, path: str | os.PathLike, contract: Contract) -> Path:
    """Save the inference form (BN folded, no optimizer) as .keras plus the contract entry.

    Written to a temp file first, then renamed: a crash never leaves half a model behind.
    """
    import keras

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.keras")
    has_batchnorm = any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    if has_batchnorm:
        inference = fold_batchnorm(model)
    else:  # a fine-tune of a folded file: a copy without the optimizer's state (3x the weights)
        inference = keras.models.clone_model(model)
        inference.set_weights(model.get_weights())
    inference.save(tmp)
    with zipfile.ZipFile(tmp, "a") as zf:
        zf.writestr(CONTRACT_ENTRY, json.dumps(asdict(contract), indent=2))
    os.replace(tmp, path)
    return path


def write_contract(path: str | os.PathLike, contract: Contract) -> Path:
    """Replace the contract inside an existing model file (the weights stay byte-identical)."""
    read_contract(path)
    return write_entries(path, {CONTRACT_ENTRY: json.dumps(asdict(contract), indent=2).encode()})


def write_entries(path: str | os.PathLike, entries: dict[str, bytes]) -> Path:
    """Add or replace entries of a model file's zip, every other entry copied as it is;
    through a temp file and a rename, like save_model."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.keras")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in entries:
                dst.writestr(item, src.read(item.filename))
        for name, data in entries.items():
            dst.writestr(name, data)
    os.replace(tmp, path)
    return path


def read_contract(path: str | os.PathLike) -> Contract:
    """Check that `path` is a complete ClassMood model file and return its contract."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a Keras model file (truncated or another format)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if CONTRACT_ENTRY not in names:
                raise ModelFileError(f"{path} is not a ClassMood model (no {CONTRACT_ENTRY} inside)")
            bad = zf.testzip()
            if bad is not None:
                raise ModelFileError(f"{path} is damaged (entry {bad} fails its checksum)")
            contract = Contract.from_json(zf.read(CONTRACT_ENTRY).decode())
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path} cannot be read as a ClassMood model ({exc})") from None
    if contract.format != FORMAT:
        raise ModelFileError(f"{path} has format {contract.format!r}, expected {FORMAT!r}")
    if contract.format_version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} needs a newer ClassMood (model format {contract.format_version} > {FORMAT_VERSION})"
        )
    if tuple(contract.labels) != EMOTIONS:
        raise ModelFileError(f"{path} predicts labels {list(contract.labels)}, expected {list(EMOTIONS)}")
    return contract


def load_model(path: str | os.PathLike | None = None):
    """Load a model file after checking its contract; returns (keras_model, contract)."""
    path = Path(path or os.environ.get("CLASSMOOD_MODEL") or SHIPPED_MODEL)
    contract = read_contract(path)
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a broken archive
        raise ModelFileError(f"{path} could not be loaded by Keras ({type(exc).__name__}: {exc})") from None
    expected = (None, contract.input_size, contract.input_size, contract.channels)
    if tuple(model.input_shape) != expected or model.output_shape[-1] != len(EMOTIONS):
        raise ModelFileError(f"{path}: model shape {model.input_shape} does not match its contract")
    return model, contract
