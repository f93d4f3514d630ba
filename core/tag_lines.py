"""Read one name-tag line with our own small line reader (core/assets/tag_lines.onnx).

No OCR model that installs from the package registries reads the 8-14 px Hangul of a Korean
class's Zoom tags (Tesseract's Hangul model reads a quarter of them; the PP-OCR models in the
rapidocr wheels have no Hangul). So `classmood train-names` (training/tag_lines.py) teaches a
small convolutional reader, trained with CTC on name tags it draws itself in several Korean
fonts at those sizes. It reads Hangul as its letters (jamo: a syllable is an initial
consonant, a vowel and maybe a final consonant), 67 symbols instead of 11,172 syllables: the
letters are shared by all syllables, so a syllable it never saw drawn is still read, and
recomposing them (Unicode NFC) checks that each syllable is a valid one. What the agent and
the trainer share lives here: the symbols, the line's normalisation to the network's input,
and the greedy CTC decoding.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

LINE_HEIGHT = 32  # the network's input: a line scaled to this height ...
LINE_WIDTH = 256  # ... and padded (or squeezed) to this width
TAG_LINES_MODEL = Path(__file__).parent / "assets" / "tag_lines.onnx"
LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUNCTUATION = " ()[]-_.,'&/"


#: Hangul's conjoining letters: 19 initial consonants, 21 vowels, 27 final consonants.
JAMO = "".join(map(chr, [*range(0x1100, 0x1113), *range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]))


def hangul_syllables() -> str:
    """The 2,350 syllables of KS X 1001 (every syllable in ordinary Korean names and words)."""
    # Python's euc_kr codec writes the other syllables as 8-byte jamo sequences: those are not in the set.
    return "".join(chr(c) for c in range(0xAC00, 0xD7A4) if len(chr(c).encode("euc_kr", "replace")) == 2)


def charset() -> str:
    """Index i+1 of the network's output is charset()[i]; index 0 is CTC's blank."""
    return PUNCTUATION + LATIN + JAMO


def as_symbols(text: str) -> str:
    """The text as the network writes it: each Hangul syllable as its letters (NFD)."""
    return unicodedata.normalize("NFD", text)


def as_dark_on_light(line: np.ndarray) -> np.ndarray:
    """A tag line in gray with dark letters on a light ground, as every line reader here
    takes it (a tag's light letters on a dark box are turned over)."""
    gray = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    return 255 - gray if np.median(gray) < 128 else gray


def line_input(line: np.ndarray) -> np.ndarray:
    """A line image (gray or BGR, dark text on a light ground) as the network reads it:
    LINE_HEIGHT x LINE_WIDTH, float32 0-255, padded on the right with its own ground colour."""
    gray = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    if gray.size == 0 or min(gray.shape) < 2:
        raise ValueError(f"a text line needs at least 2x2 pixels, got {gray.shape}")
    width = max(1, round(gray.shape[1] * LINE_HEIGHT / gray.shape[0]))
    interpolation = cv2.INTER_AREA if gray.shape[0] > LINE_HEIGHT else cv2.INTER_CUBIC
    scaled = cv2.resize(gray, (min(width, LINE_WIDTH), LINE_HEIGHT), interpolation=interpolation)
    out = np.full((LINE_HEIGHT, LINE_WIDTH), float(np.median(gray)), np.float32)
    out[:, : scaled.shape[1]] = scaled
    return out


def greedy_decode(probabilities: np.ndarray, symbols: str) -> tuple[str, float]:
    """(text, confidence) from one line's (steps, 1 + len(symbols)) probabilities: the most
    likely symbol per step, repeats merged, blanks dropped, Hangul letters composed into
    syllables (a letter that makes no syllable stays a lone jamo). Confidence is the least sure
    symbol's probability (one unsure syllable makes an unsure name), 0 for an empty line."""
    best = probabilities.argmax(axis=1)
    text, sure = [], []
    previous = 0
    for step, index in enumerate(best):
        if index != 0 and index != previous:
            text.append(symbols[index - 1])
            sure.append(float(probabilities[step, index]))
        previous = index
    return unicodedata.normalize("NFC", "".join(text)).strip(), (min(sure) if sure else 0.0)


class TagLinesModelError(RuntimeError):
    """The line reader's model file is missing or is not one; the message is one line."""


@dataclass
class LineReading:
    text: str
    confidence: float  # 0-1: the least sure symbol's probability


class TagLineReader:
    """`read(lines)` -> one LineReading per line image (dark text on light, any size)."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int = 1):
        import onnxruntime

        path = Path(path or os.environ.get("CLASSMOOD_TAG_LINES_MODEL") or TAG_LINES_MODEL)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise TagLinesModelError(f"{path}: not a tag line model ({str(exc).splitlines()[0]})") from None
        meta = self._session.get_modelmeta().custom_metadata_map
        if "charset" not in meta:
            raise TagLinesModelError(f"{path}: no charset in the model's metadata")
        self.symbols = meta["charset"]
        self._input = self._session.get_inputs()[0].name

    def read(self, lines: list[np.ndarray]) -> list[LineReading]:
        if not lines:
            return []
        batch = np.stack([line_input(line) for line in lines])[..., None]
        probabilities = self._session.run(None, {self._input: batch})[0]
        return [LineReading(*greedy_decode(p, self.symbols)) for p in probabilities]
