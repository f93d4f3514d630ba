"""The tag line reader: its decoding and input by hand, its training end to end on drawn lines,
the shipped model on drawn tags in a font it never saw, and a bad model file."""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.tag_lines import (
    LINE_HEIGHT,
    LINE_WIDTH,
    TAG_LINES_MODEL,
    TagLineReader,
    TagLinesModelError,
    as_symbols,
    charset,
    greedy_decode,
    hangul_syllables,
    line_input,
)


def steps_for(symbols_per_step: list[str | None], sure: float = 0.9) -> np.ndarray:
    """Probabilities whose most likely symbol per step is the given one (None: CTC's blank)."""
    symbols = charset()
    probabilities = np.full((len(symbols_per_step), len(symbols) + 1), (1 - sure) / len(symbols), np.float32)
    for step, symbol in enumerate(symbols_per_step):
        probabilities[step, 0 if symbol is None else symbols.index(symbol) + 1] = sure
    return probabilities


def test_decoding_merges_repeats_drops_blanks_and_composes_syllables():
    ga, a, m = "\u1100", "\u1161", "\u11b7"  # ㄱ, ㅏ, final ㅁ: 감
    read, confidence = greedy_decode(steps_for([ga, ga, None, a, a, m, None, "1", None, "1"]), charset())
    assert read == "감11"
    assert confidence == pytest.approx(0.9)
    # One unsure symbol makes the line unsure.
    probabilities = steps_for([ga, a, None, "A"])
    probabilities[3] = steps_for(["A"], sure=0.3)[0]
    assert greedy_decode(probabilities, charset())[1] == pytest.approx(0.3)
    # A vowel with no consonant before it makes no syllable: it stays a lone letter.
    assert greedy_decode(steps_for([a, None, ga, a]), charset())[0] == "\u1161가"
    assert greedy_decode(steps_for([None, None]), charset()) == ("", 0.0)


def test_the_symbols_spell_every_syllable_even_beyond_ks_x_1001():
    syllables = hangul_syllables()
    assert len(syllables) == 2350 and "김" in syllables
    assert "똠" not in syllables  # the famous name syllable KS X 1001 left out ...
    every = "".join(map(chr, range(0xAC00, 0xD7A4)))
    assert set(as_symbols(every)) <= set(charset())  # ... is still spelt, as all 11,172 are
    assert as_symbols("(초급)강 미숙 20200756") != "(초급)강 미숙 20200756"  # letters, not syllables
    assert len(charset()) == len(set(charset()))


def test_a_line_is_scaled_to_the_input_height_and_padded_with_its_ground():
    line = np.full((16, 40), 200, np.uint8)
    line[4:12, 5:35] = 20
    x = line_input(line)
    assert x.shape == (LINE_HEIGHT, LINE_WIDTH) and x.dtype == np.float32
    assert (x[:, 90:] == 200).all()  # 40 px at 16 high is 80 at 32: the rest is the line's ground
    assert x[:, :80].min() < 60
    wide = line_input(np.full((10, 1000, 3), 90, np.uint8))
    assert wide.shape == (LINE_HEIGHT, LINE_WIDTH)
    with pytest.raises(ValueError, match="2x2"):
        line_input(np.zeros((1, 30), np.uint8))


def test_a_missing_or_foreign_model_file_is_one_clear_line(tmp_path):
    for path in (tmp_path / "absent.onnx", tmp_path / "junk.onnx"):
        if path.name == "junk.onnx":
            path.write_bytes(b"not a model")
        with pytest.raises(TagLinesModelError) as caught:
            TagLineReader(path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_model_without_its_symbols_is_refused(tmp_path):
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Identity", ["line"], ["out"])],
        "bare",
        [helper.make_tensor_value_info("line", TensorProto.FLOAT, ["n", 32, 256, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", 32, 256, 1])],
    )
    path = tmp_path / "bare.onnx"
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(TagLinesModelError, match="charset"):
        TagLineReader(path)


@pytest.fixture(scope="module")
def korean_fonts():
    from training.tag_lines import FONT_FILES, HELD_OUT_FAMILY, FontsMissing, fonts

    try:
        return fonts([f for f in FONT_FILES if f != HELD_OUT_FAMILY]), fonts([HELD_OUT_FAMILY])
    except FontsMissing as exc:
        pytest.skip(str(exc))


def test_training_draws_lines_fits_and_exports_a_reader_the_agent_loads(tmp_path, korean_fonts):
    from training.tag_lines import train

    metrics = train(tmp_path, lines=256, epochs=1, progress=False, check_lines=32)
    assert 0.0 <= metrics["seen_font"] <= 1.0 and len(metrics["history"]) == 1
    reader = TagLineReader(tmp_path / "tag_lines.onnx")
    assert reader.symbols == charset()
    readings = reader.read([np.full((20, 90), 230, np.uint8), np.full((12, 60, 3), 40, np.uint8)])
    assert len(readings) == 2 and all(0.0 <= r.confidence <= 1.0 for r in readings)


def test_the_shipped_reader_reads_drawn_tags_in_a_font_it_never_saw(korean_fonts):
    """Hangul tags drawn in NanumBarunGothic, which training never draws in, half their
    syllables rare ones: the reader reads far more of them exactly than Tesseract's Hangul
    model does (bench.tag_lines has the full table)."""
    from agent.names import ScriptReader
    from bench.tag_lines import as_the_agent_cuts
    from training.tag_lines import draw_line, sample_text

    try:
        tesseract = ScriptReader(("Hangul",))
    except RuntimeError as exc:
        pytest.skip(str(exc))
    if "Hangul" not in tesseract.scripts:
        pytest.skip("Tesseract's Hangul model is not installed (make system-deps)")
    _, unseen = korean_fonts
    rng, np_rng = random.Random(7), np.random.default_rng(7)
    texts = [sample_text(rng, hangul_syllables()) for _ in range(60)]
    lines = [as_the_agent_cuts(draw_line(t, unseen[i % len(unseen)], np_rng)) for i, t in enumerate(texts)]
    ours = sum(r.text == t.strip() for r, t in zip(TagLineReader(TAG_LINES_MODEL).read(lines), texts))
    theirs = sum(tesseract.read(line, "Hangul")[0] == t.strip() for line, t in zip(lines, texts))
    assert ours >= 0.4 * len(texts) and ours >= 2 * theirs, (ours, theirs)
