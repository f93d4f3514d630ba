"""Classify face crops into the seven emotions with the shipped (or a given) model.

The model is loaded lazily, once, on first use: importing core never touches TensorFlow.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.calibration import with_prior, with_temperature
from core.face_quality import QualityGate
from core.faces import flat_crops
from core.labels import EMOTIONS
from core.model import SHIPPED_MODEL, ModelFileError, load_model, read_contract
from core.onnx_model import OnnxForward

logger = logging.getLogger(__name__)

FLAT_CROP = 2.0  # a crop whose grey levels vary less than this (std) shows no face to read


@dataclass(frozen=True)
class Emotion:
    """The classifier's answer for one face: probabilities in EMOTIONS order, and the winner."""

    probabilities: tuple[float, ...]
    uncertain: bool = False  # a guess: top probability under its network's guess line

    @property
    def top(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def score(self) -> float:
        return float(max(self.probabilities))

    def as_dict(self) -> dict[str, float]:
        return {name: round(float(p), 4) for name, p in zip(EMOTIONS, self.probabilities)}


class EmotionClassifier:
    """Wraps the Keras model behind one call: uint8 crops in, calibrated probabilities out.

    Paired with a meeting expert (a model file carrying a quality gate, `classmood fit-gate`; the
    shipped model names its own, `core/assets/emotion_cnn_meeting.keras`), a face that looks
    small, coded, blurred or dim (core.face_quality) is read by the expert, with the expert's own
    calibration and guess line; every other face by this network; a face on the border by both,
    blended.

    A model file without a fitted temperature is used as it is, said once in the log, and
    none of its readings is marked a guess (`uncertain` answers False): nothing is known of
    how far its probabilities can be trusted.

    A file whose contract says `flip_average` (the shipped one) reads a face and its mirror image
    and averages the two: the reading moves less with a few pixels of crop or codec noise and is
    more often right; its calibration was fitted on that reading. Only faces the network is
    unsure of (top probability under the contract's `mirror_below`) are read mirrored: a sure
    face's mirror changed no answer on PublicTest, and half the faces are sure.

    Faces are read for a lecture (`balance="lecture"`, the default) where the file carries a
    lecture prior: most faces in class are calm, and Bayes' rule moves the calibrated
    probabilities to that class balance (core.calibration). `balance="fer2013"` reads them as
    the net learned them, the balance its FER2013 figures are measured with."""

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        backend: str = "auto",
        balance: str = "lecture",
        meeting_expert: str | os.PathLike | bool | None = None,
    ):
        """meeting_expert: None pairs the network with the expert its file names (the shipped one
        does), a file pairs it with that expert, False reads every face with this network alone.

        backend: "onnxruntime" (no TensorFlow import: seconds faster to start, a fraction
        of the memory; `bench.serving`), "tensorflow", or "auto": onnxruntime where it can
        serve the file, else TensorFlow."""
        if balance not in ("lecture", "fer2013"):
            raise ValueError(f"unknown class balance {balance!r} (lecture or fer2013)")
        path = self.path = Path(model_path or os.environ.get("CLASSMOOD_MODEL") or SHIPPED_MODEL)
        self.backend = "tensorflow"
        if backend in ("auto", "onnxruntime"):
            try:
                self.contract = read_contract(path)
                self._predict = OnnxForward(path)
                self.backend = "onnxruntime"
            except (ImportError, ModelFileError) as exc:
                if backend == "onnxruntime" or not path.exists():
                    raise
                logger.info("serving %s through TensorFlow: %s", path.name, exc)
        if self.backend == "tensorflow":
            self.model, self.contract = load_model(path)
            self._predict = _compiled_forward(self.model)
        self.lecture = balance == "lecture" and self.contract.lecture_prior is not None
        self.flip_average = self.contract.flip_average
        self.mirror_below = self.contract.mirror_below
        self.expert, self.gate = None, None
        if meeting_expert is None:
            meeting_expert = self._partner()
        if meeting_expert:
            self.expert = EmotionClassifier(meeting_expert, backend, balance)
            self.gate = _quality_gate(Path(meeting_expert), self.expert.contract)
            if self.expert.input_size != self.input_size:
                raise ModelFileError(f"{meeting_expert} reads {self.expert.input_size} px faces, not {self.input_size}")
        if not self.contract.calibrated:
            logger.warning(
                "model %s is not calibrated: its probabilities are the network's raw ones, and no "
                "reading is marked uncertain (classmood calibrate fits it)",
                self.contract.model_version,
            )

    def _partner(self) -> Path | None:
        """The meeting expert this file's contract names, beside it; None if it names none or
        the file is missing (said in the log: every face is then read by this network)."""
        if not self.contract.meeting_expert:
            return None
        partner = self.path.parent / self.contract.meeting_expert
        if partner.is_file():
            return partner
        logger.warning(
            "%s names its meeting expert %s, which is missing: every face is read by %s alone",
            self.path.name,
            partner,
            self.path.name,
        )
        return None

    def uncertain(self, probabilities) -> bool:
        """Is this reading of this network a guess (top probability under the line chosen on PublicTest)?"""
        return bool(max(probabilities) < self.guess_line)

    @property
    def served_by(self) -> str:
        """Which runtime reads the faces, and in what numbers: "onnxruntime int8", "tensorflow float32"..."""
        return f"onnxruntime {self._predict.precision}" if self.backend == "onnxruntime" else "tensorflow float32"

    @property
    def reading(self) -> str:
        """How a face is read, in words: runtime, mirror, expert ("onnxruntime int8, mirror under 0.7, ...")."""
        mirror = ""
        if self.flip_average:
            mirror = ", face + mirror" if self.mirror_below >= 1 else f", mirror under {self.mirror_below:g}"
        return self.served_by + mirror + (f", {self.expert.path.name} for degraded faces" if self.expert else "")

    @property
    def input_size(self) -> int:
        return self.contract.input_size

    def probabilities(self, crops: np.ndarray, raw: bool = False) -> np.ndarray:
        """(n, size, size) uint8 crops -> (n, 7) float32 probabilities (the networks' own with `raw`)."""
        return self.readings(crops, raw)[0]

    def readings(self, crops: np.ndarray, raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities as `probabilities` gives them, and per face whether the reading is a guess:
        its top probability under its network's guess line (a blend's: the lines blended alike)."""
        crops = np.asarray(crops)
        if crops.ndim == 2:
            crops = crops[None]
        size = self.contract.input_size
        if len(crops) and crops.shape[1:] != (size, size):
            raise ValueError(f"crops must be {size}x{size} grayscale, got {crops.shape[1:]}")
        share = self.gate.expert_share(crops) if self.expert and len(crops) else np.zeros(len(crops), np.float32)
        out = np.zeros((len(crops), len(EMOTIONS)), np.float32)
        mine, theirs = share < 1, share > 0
        if mine.any():
            out[mine] = (1 - share[mine, None]) * self._own(crops[mine], raw)
        if theirs.any():
            out[theirs] += share[theirs, None] * self.expert._own(crops[theirs], raw)
        lines = (1 - share) * self.guess_line + (share * self.expert.guess_line if self.expert else 0)
        return out, (out.max(axis=1) < lines) if not raw else np.zeros(len(crops), bool)

    @property
    def guess_line(self) -> float:
        """A top probability under this is a guess; 0 where the file is uncalibrated."""
        return (self.contract.lecture_uncertain_below if self.lecture else self.contract.uncertain_below) or 0.0

    def _own(self, crops: np.ndarray, raw: bool) -> np.ndarray:
        """This file's network alone, calibrated and moved to the reading's class balance."""
        out = self._network(crops[..., None].astype(np.float32))
        if raw or not self.contract.calibrated:
            return out
        out = with_temperature(out, self.contract.temperature)
        if self.lecture:
            out = with_prior(out, self.contract.lecture_prior, self.contract.training_prior)
        flat = flat_crops(crops, FLAT_CROP)
        if flat.any():  # all black (a frozen or dark video): nothing to read, so the base rate, a guess
            out[flat] = self.base_rate
        return out

    def _network(self, x: np.ndarray) -> np.ndarray:
        """The net's softmax; with `flip_average`, the mean of a face's and its mirror's for each
        face read under `mirror_below` (every face: one batch of both)."""
        if not self.flip_average:
            return np.asarray(self._predict(x))
        if self.mirror_below >= 1:
            both = np.asarray(self._predict(np.concatenate([x, x[:, :, ::-1]])))
            return (both[: len(x)] + both[len(x) :]) / 2
        out = np.array(self._predict(x), np.float32)
        unsure = out.max(axis=1) < self.mirror_below
        if unsure.any():
            out[unsure] = (out[unsure] + np.asarray(self._predict(x[unsure][:, :, ::-1]))) / 2
        return out

    @property
    def base_rate(self) -> np.ndarray:
        """The class balance faces are read under: what is known of a face before looking."""
        prior = self.contract.lecture_prior if self.lecture else self.contract.training_prior
        return np.asarray(prior if prior is not None else [1 / len(EMOTIONS)] * len(EMOTIONS), np.float32)

    def classify(self, crops: np.ndarray) -> list[Emotion]:
        probabilities, guesses = self.readings(crops)
        return [Emotion(tuple(float(p) for p in row), bool(guess)) for row, guess in zip(probabilities, guesses)]


def _quality_gate(path: Path, contract) -> QualityGate:
    if contract.quality_gate is None:
        raise ModelFileError(f"{path} is not a meeting expert: it has no quality gate (classmood fit-gate)")
    try:
        return QualityGate.from_dict(contract.quality_gate)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: its quality gate cannot be read ({exc})") from None


def _compiled_forward(model):
    """A graph-compiled forward pass: model.predict() costs ~10x more than the net on 25 crops."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return lambda x: fn(tf.convert_to_tensor(x)).numpy()
    return lambda x: keras.ops.convert_to_numpy(model(x, training=False))


_default: EmotionClassifier | None = None


def default_classifier(
    model_path: str | os.PathLike | None = None, meeting_expert: str | os.PathLike | bool | None = None
) -> EmotionClassifier:
    """The process-wide classifier for the shipped model (or $CLASSMOOD_MODEL)."""
    global _default
    if model_path is not None or meeting_expert is not None:
        return EmotionClassifier(model_path, meeting_expert=meeting_expert)
    if _default is None:
        _default = EmotionClassifier()
    return _default
