"""`classmood train-names`: teach the tag line reader (core/tag_lines.py) on tags it draws.

Every training line is made here: a name as Korean classes write them in Zoom (a surname and
one to three syllables, often with a student number, a bracketed group or role, sometimes a
space after the surname, a department name, Zoom's "..."; some Latin names too), drawn in a
Korean sans font at 9-16 px as a tag is drawn (light letters on a half-transparent dark box
over video, or dark on light), then shrunk, blurred and JPEG-coded as screenshots are, cut
out as the agent cuts a tag's line, and turned dark-on-light. Syllables are drawn half from
common name syllables and half from all 2,350 of KS X 1001, so no name list is learned by
heart. One font family (NanumBarunGothic) is never trained on: its lines measure how well the
reader carries to a font it has not seen, as a real screen's font is.

No real screenshot is used: the real Korean class in ../shared/data/real_galleries is the test
(`python -m bench.real_galleries`).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.tag_lines import (
    LINE_HEIGHT,
    LINE_WIDTH,
    as_dark_on_light,
    as_symbols,
    charset,
    greedy_decode,
    hangul_syllables,
    line_input,
)

logger = logging.getLogger(__name__)

#: Common surnames and given-name syllables (half of the drawn syllables; the rest from all of KS X 1001).
SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민진"
    "나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편"
    "용예경봉사부가복태목형피두감음빈동온호범좌"
)
GIVEN = (
    "민서지현준수영은하윤우진예성재연정혜유동희주승원경아나다채소상태세미선혁호석훈규"
    "빈찬종기건도한시율인람름솔별봄슬결란숙자순옥화향애철용식남명근범익창국환섭열웅완"
    "욱일중학덕광신병구봉만묵의효린령담온겸해혼가보비라리니"
)
LATIN_SYLLABLES = (
    "an", "ber", "ca", "da", "el", "fi", "gan", "ha", "ia", "jo", "ka", "li", "ma", "no", "ol", "pa",
    "ri", "sa", "ta", "us", "vi", "wo", "xa", "yu", "ze", "ton", "son", "mar", "lee", "kim", "park",
)  # fmt: skip
FONT_FILES = {
    "NotoSansCJK": [("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 1),
                    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 1)],
    "NanumGothic": [("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 0),
                    ("/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", 0)],
    "NanumSquare": [("/usr/share/fonts/truetype/nanum/NanumSquareR.ttf", 0),
                    ("/usr/share/fonts/truetype/nanum/NanumSquareB.ttf", 0)],
    "UnDotum": [("/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf", 0),
                ("/usr/share/fonts/truetype/unfonts-core/UnDotumBold.ttf", 0)],
    "NanumBarunGothic": [("/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf", 0),
                         ("/usr/share/fonts/truetype/nanum/NanumBarunGothicBold.ttf", 0)],
}  # fmt: skip
HELD_OUT_FAMILY = "NanumBarunGothic"
FONT_PACKAGES = "fonts-noto-cjk fonts-nanum fonts-unfonts-core"
MAX_TEXT = 20  # characters a drawn tag may hold
MAX_LABEL = 48  # symbols (Hangul letters, digits, ...) of a line's label


class FontsMissing(RuntimeError):
    """The Korean fonts the lines are drawn in are not installed; the message is one line."""


def fonts(families: list[str]) -> list[tuple[str, int]]:
    found = [(path, index) for family in families for path, index in FONT_FILES[family] if Path(path).is_file()]
    if not found:
        raise FontsMissing(f"no Korean fonts for {', '.join(families)}: apt-get install {FONT_PACKAGES}")
    return found


def sample_text(rng: random.Random, all_syllables: str) -> str:
    """One tag's text, as Korean classes write them in Zoom."""

    def syllables(k: int) -> str:
        return "".join(rng.choice(GIVEN) if rng.random() < 0.5 else rng.choice(all_syllables) for _ in range(k))

    def name() -> str:
        surname = rng.choice(SURNAMES) if rng.random() < 0.9 else rng.choice(all_syllables)
        given = syllables(rng.choices([1, 2, 3], [0.15, 0.8, 0.05])[0])
        return surname + (" " if rng.random() < 0.1 else "") + given

    def latin() -> str:
        count = rng.randint(1, 2)
        words = ["".join(rng.choice(LATIN_SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(count)]
        return " ".join(w.upper() if rng.random() < 0.1 else w.capitalize() for w in words)

    def number() -> str:
        return str(rng.randint(10**7, 10**8 - 1)) if rng.random() < 0.8 else str(rng.randint(1000, 9999))

    def bracket(text: str) -> str:
        return f"({text})" if rng.random() < 0.85 else f"[{text}]"

    def gap() -> str:
        return " " if rng.random() < 0.5 else ""

    kind = rng.choices(range(9), [30, 10, 8, 15, 10, 7, 8, 6, 6])[0]
    text = [
        lambda: name(),
        lambda: f"{name()} {number()}" if rng.random() < 0.5 else f"{number()} {name()}",
        lambda: f"{name()}{gap()}{bracket(number())}",
        lambda: f"{bracket(syllables(2))}{gap()}{name()}",
        lambda: f"{name()}{gap()}{bracket(syllables(2))}",
        lambda: f"{name()} {syllables(rng.randint(1, 3))}",
        lambda: syllables(rng.randint(3, 7)) + (f" {name()}" if rng.random() < 0.5 else ""),
        lambda: latin(),
        lambda: f"{latin()} {bracket(name())}" if rng.random() < 0.5 else f"{name()} {latin()}",
    ][kind]()
    if rng.random() < 0.05:
        text = text[: rng.randint(3, max(3, len(text) - 1))].rstrip() + "..."  # Zoom cut a long name
    return text[:MAX_TEXT]


def textured_ground(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Something like a video behind a tag: smooth colour blobs, some edges, a little noise."""
    small = rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3)).astype(np.uint8)
    ground = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    ground = cv2.GaussianBlur(ground, (0, 0), rng.uniform(1, 6))
    return np.clip(ground + rng.normal(0, rng.uniform(0, 8), ground.shape), 0, 255).astype(np.uint8)


def draw_line(text: str, font: tuple[str, int], rng: np.random.Generator) -> np.ndarray:
    """The text drawn as a tag at screen size and cut out as the agent cuts a tag's line:
    a gray image, dark letters on a light ground, any size (line_input scales it)."""
    from PIL import Image, ImageDraw, ImageFont

    size = int(rng.integers(9, 17))
    face = ImageFont.truetype(font[0], size, index=font[1])
    left, top, right, bottom = face.getbbox(text)
    pad = size
    width, height = right - left + 2 * pad, max(bottom - top, size) + 2 * pad
    ground = textured_ground(rng, height, width)
    style = rng.random()
    image = Image.fromarray(ground[..., ::-1].copy())
    draw = ImageDraw.Draw(image, "RGBA")
    if style < 0.7:  # Zoom and Meet: light letters on a half-transparent dark box
        box = (pad // 2 - 2, pad // 2, width - pad // 2 + 2, height - pad // 2)
        draw.rectangle(box, fill=(0, 0, 0, int(rng.integers(90, 230))))
        ink = tuple(int(v) for v in rng.integers(215, 256, 3))
    elif style < 0.85:  # a camera-off tile: light letters on plain dark gray
        draw.rectangle((0, 0, width, height), fill=tuple([int(rng.integers(20, 70))] * 3) + (255,))
        ink = tuple(int(v) for v in rng.integers(200, 256, 3))
    else:  # dark letters on a light panel
        draw.rectangle((0, 0, width, height), fill=tuple([int(rng.integers(200, 256))] * 3) + (255,))
        ink = tuple(int(v) for v in rng.integers(0, 60, 3))
    draw.text((pad - left, pad - top), text, font=face, fill=ink + (255,))
    line = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    line = screenshot_wear(line, rng)
    scale = line.shape[0] / height
    # The agent's cut: the detected text box with a margin of about a sixth of its height.
    margin_y = (bottom - top) * rng.uniform(0.1, 0.35)
    margin_x = (bottom - top) * rng.uniform(0.05, 0.5)
    y0 = max(0, int((pad - margin_y) * scale))
    y1 = min(line.shape[0], int((pad + bottom - top + margin_y) * scale) + 1)
    x0 = max(0, int((pad - margin_x) * scale))
    x1 = min(line.shape[1], int((pad + right - left + margin_x) * scale) + 1)
    return as_dark_on_light(line[y0:y1, x0:x1])


def screenshot_wear(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a screenshot does to a tag: scaled (a smaller window, a 4K screen shown at 1080p),
    blurred a little, coded as JPEG."""
    if rng.random() < 0.5:
        factor = rng.uniform(0.7, 1.0)
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.8))
    if rng.random() < 0.5:
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def encode(text: str, index: dict[str, int]) -> np.ndarray:
    """Label indices (1-based, 0 pads) of a text, MAX_LABEL long."""
    label = np.zeros(MAX_LABEL, np.int32)
    codes = [index[c] for c in as_symbols(text)]
    label[: len(codes)] = codes
    return label


@dataclass
class LineSet:
    images: np.ndarray  # (n, LINE_HEIGHT, LINE_WIDTH) float32
    labels: np.ndarray  # (n, MAX_LABEL) int32
    texts: list[str]


def make_lines(count: int, font_list: list[tuple[str, int]], seed: int, progress: bool = True) -> LineSet:
    from rich.progress import track

    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    symbols, all_syllables = charset(), hangul_syllables()
    index = {c: i + 1 for i, c in enumerate(symbols)}
    images = np.empty((count, LINE_HEIGHT, LINE_WIDTH), np.float32)
    labels = np.empty((count, MAX_LABEL), np.int32)
    texts = []
    steps = range(count)
    for i in track(steps, description=f"drawing {count} tag lines") if progress else steps:
        while True:  # a line the network can spell out: few enough symbols for its 64 steps
            text = sample_text(rng, all_syllables)
            line = draw_line(text, rng.choice(font_list), np_rng)
            if len(as_symbols(text)) <= MAX_LABEL and line.shape[1] * LINE_HEIGHT <= LINE_WIDTH * line.shape[0]:
                break
        images[i] = line_input(line)
        labels[i] = encode(text, index)
        texts.append(text)
    return LineSet(images, labels, texts)


def make_model(n_symbols: int):
    """A small fully convolutional CTC reader: 32 x 256 in, 64 steps of symbol scores out."""
    import keras
    from keras import layers

    def block(x, channels, pool=None):
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        return layers.MaxPooling2D(pool)(x) if pool else x

    image = keras.Input((LINE_HEIGHT, LINE_WIDTH, 1), name="line")
    x = layers.Rescaling(1 / 255.0)(image)
    x = block(x, 16, (2, 2))  # 16 x 128
    x = block(x, 32, (2, 2))  # 8 x 64
    x = block(x, 64)
    x = block(x, 64, (2, 1))  # 4 x 64
    x = block(x, 96)
    x = block(x, 96, (2, 1))  # 2 x 64
    x = layers.Conv2D(128, (2, 1), padding="valid", activation="relu")(x)  # 1 x 64
    x = layers.Reshape((LINE_WIDTH // 4, 128))(x)
    x = layers.Conv1D(128, 3, padding="same", activation="relu")(x)  # a syllable's neighbours
    x = layers.Dropout(0.1)(x)
    logits = layers.Dense(n_symbols + 1, name="logits")(x)
    return keras.Model(image, logits, name="tag_lines")


def line_accuracy(model, lines: LineSet, symbols: str) -> float:
    import keras

    logits = model.predict(lines.images[..., None], batch_size=256, verbose=0)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    read = [greedy_decode(p, symbols)[0] for p in probabilities]
    return float(np.mean([r == t.strip() for r, t in zip(read, lines.texts)]))


def export_onnx(model, symbols: str, path: Path) -> Path:
    """The network with a softmax, as ONNX (input "line": n x 32 x 256 x 1), the charset in its
    metadata."""
    import keras
    import onnx

    probabilities = keras.layers.Softmax(name="probabilities")(model.output)
    serving = keras.Model(model.input, probabilities)
    serving(np.zeros((1, LINE_HEIGHT, LINE_WIDTH, 1), np.float32))  # Keras exports only a model that has run
    path.parent.mkdir(parents=True, exist_ok=True)
    serving.export(str(path), format="onnx", verbose=False)
    graph = onnx.load(str(path))
    graph.metadata_props.add(key="charset", value=symbols)
    onnx.save(graph, str(path))
    return path


def train(
    out: Path,
    lines: int = 60_000,
    epochs: int = 3,
    seed: int = 0,
    progress: bool = True,
    check_lines: int = 2000,
    init_from: Path | None = None,
    learning_rate: float = 1e-3,
) -> dict:
    """Draw the lines, fit the reader (from `init_from`'s weights: a further phase on new
    lines), export it; returns the share of `check_lines` drawn lines read exactly, in the
    trained fonts and in the held-out font."""
    import keras

    symbols = charset()
    trained_fonts = fonts([f for f in FONT_FILES if f != HELD_OUT_FAMILY])
    train_set = make_lines(lines, trained_fonts, seed, progress)
    seen = make_lines(check_lines, trained_fonts, seed + 1, progress)
    unseen = make_lines(check_lines, fonts([HELD_OUT_FAMILY]), seed + 2, progress)
    keras.utils.set_random_seed(seed)
    model = make_model(len(symbols))
    if init_from is not None:
        model.set_weights(keras.models.load_model(init_from, compile=False).get_weights())
    steps = epochs * (lines // 64)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4), loss=keras.losses.CTC())
    out.mkdir(parents=True, exist_ok=True)
    history = []
    for epoch in range(epochs):
        fit = model.fit(train_set.images[..., None], train_set.labels, batch_size=64, epochs=1, verbose=int(progress))
        row = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1])}
        row["seen_font"] = line_accuracy(model, seen, symbols)
        history.append(row)
        logger.info("epoch %d: loss %.3f, drawn lines exact %.1f %%", epoch + 1, row["loss"], 100 * row["seen_font"])
        model.save(out / "tag_lines.keras")
    metrics = {
        "lines": lines,
        "epochs": epochs,
        "init_from": str(init_from) if init_from else None,
        "learning_rate": learning_rate,
        "seen_font": line_accuracy(model, seen, symbols),
        "unseen_font": line_accuracy(model, unseen, symbols),
        "history": history,
    }
    export_onnx(model, symbols, out / "tag_lines.onnx")
    return metrics
