"""Read the name tag of each tile: find the tag's line, clean it, read it in the right script.

Where the name is: Zoom and Meet put it at the bottom-left of a video tile (and of a camera-off
tile with a profile photo), after a red muted-microphone icon; a Zoom camera-off tile without
a photo shows it centred instead. So the bottom-left strip is read first and the middle band
only when the strip holds no text.

Engines: RapidOCR's detector (rapidocr-onnxruntime) finds the text line; our own tag line
reader (core/tag_lines.py, trained on drawn Korean tags) reads it first and is taken where it
surely reads a Hangul name; PP-OCRv6's multilingual Latin model (inside the rapidocr wheel)
reads it, accents included; Tesseract (Debian's `tesseract-ocr-script-*` packs, through
tesserocr) reads it again per script. The PP-OCR models read no Hangul, Hebrew, Cyrillic or Arabic; Tesseract's script
models do. When the Latin readings agree, the PP-OCR one is kept (Tesseract's accents where
only it saw them); when they disagree, the surer one; other
scripts are tried when the Latin reading is unsure.

Name tags rarely change, so results are cached by a coarse fingerprint of the tag area: a
steady gallery costs OCR only on the first capture and when a tag changes.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import queue
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from agent.grid import runs
from core.student_names import TRUNCATION, normalize_name
from core.tag_lines import JAMO, TagLineReader, TagLinesModelError, as_dark_on_light

logger = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.6  # RapidOCR's score for a line to count as text
TESSERACT_SURE = 75  # Tesseract's mean word confidence (0-100) above which a reading is trusted
STRIP_HEIGHT_PX = 90  # tag strips are scaled to about this height before OCR (small tiles' tags)
#: Where the detector finds no text in a strip, it looks once more at twice the scale: a tag cut
#: by the tile's bottom edge is found only when its letters are larger.
RETRY_SCALE = 2.0
# The crops of a tag that vote on its name, (top, bottom, left, right) pixels trimmed off:
# the tag as read first, then as tile boxes a pixel lower, higher, to the right, smaller.
CROPS = ((0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (1, 0, 1, 1))
BOX_MARGIN = 12  # pixels around a strip for the text detector (text on the edge is missed)
SMALL_TEXT_PX = 24  # a detected line shorter than this, in the scaled strip, is detected again ...
TEXT_HEIGHT_PX = 40  # ... with the strip scaled for its text to be this tall (tags read best at 32-60)
#: Tesseract script models tried, Latin first. Debian: tesseract-ocr-script-<code>.
DEFAULT_SCRIPTS = ("Latin", "Hangul", "Hebrew", "Cyrillic", "Arabic", "Devanagari", "HanS")
RIGHT_TO_LEFT = {"HEBREW", "ARABIC"}
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LEADING_JUNK = re.compile(r"^[^\w(\[«\u0590-\u05ff]+")
TRAILING_JUNK = re.compile(r"[^\w).\]»\u0590-\u05ff\u0300-\u036f\u0900-\u097f\u0610-\u065f]+$")  # marks end words
#: Tesseract's script model -> the Unicode script its letters belong to (unicodedata names).
SCRIPT_LETTERS = {"Hangul": "HANGUL", "Hebrew": "HEBREW", "Cyrillic": "CYRILLIC", "Arabic": "ARABIC",
                  "Devanagari": "DEVANAGARI", "HanS": "CJK"}  # fmt: skip
ACCENT_SURE = 90  # Tesseract word confidence above which its accents are kept (RapidOCR reads none)
LATIN_SURE = 88  # Tesseract's Latin confidence above which two agreeing engines need no other script
RAPID_SURE = 0.9  # PP-OCRv6's line score above which its reading stands against Tesseract's
AGREED_UNSURE = {"Cyrillic", "Hebrew"}  # Latin-looking letters, and a model that reads Latin well
HALF_OUTSIDE = 0.5  # share of an ink blob outside the text box for it to be no glyph
MARK_REACH = 0.15  # of the x-height: how far past its letters' extent an accent's ink reaches
SPACE_GAP = 0.25  # of the text's height: a blank this wide between Hangul syllables is a space
ELLIPSIS_REACH = 1.5  # of the text's height: how far right of the detected text "..." is looked for
#: Of the text's height: the narrowest a name's line can be once the mic icon is cut off (two
#: Hebrew letters, "דן", or one Chinese character are about one height wide; the icon's margin
#: alone about a fifth).
NARROWEST_NAME = 0.5
OTHER_SCRIPT_MARGIN = 8  # confidence points another script's reading must beat the Latin one by
HANGUL_SURE = 0.5  # our line reader's least sure symbol probability above which its Hangul name is taken
#: Under HANGUL_SURE, where no engine reads anything, our line reader's Hangul is still taken from
#: this line up: on drawn lines it reads 11 % of them exactly at 0.35-0.5, Tesseract 1 % (TAG_LINES_CARD.md).
HANGUL_RATHER_THAN_NOTHING = 0.35


def tag_regions(tile: np.ndarray, camera_on: bool) -> list[tuple[np.ndarray, bool]]:
    """(region, the tag is its lowest line) where a name may be, in the order to read them."""
    h, w = tile.shape[:2]
    strip = tile[int(h * 0.76) : max(int(h * 0.76) + 1, h - 2), 2 : int(w * 0.85)]
    if camera_on:
        return [(strip, True)]
    return [(strip, True), (tile[int(h * 0.3) : int(h * 0.7), int(w * 0.05) : int(w * 0.95)], False)]


def without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean_name(text: str) -> str:
    """Drop what the icons beside a name read as (a stray '%', '<', a lone glyph before the
    name) and write Zoom's truncation as '...' whatever the OCR made of it."""
    text = " ".join(BIDI_MARKS.sub("", text).split())
    cut = TRUNCATION.search(text)
    mark = (" ..." if cut.group(0).startswith(" ") else "...") if cut else ""
    text = TRUNCATION.sub("", text)
    text = TRAILING_JUNK.sub("", LEADING_JUNK.sub("", text))
    words = text.split(" ")
    if len(words) > 1 and len(words[0]) == 1 and (not words[0].isalnum() or script_of(words[0]) != script_of(text)):
        words = words[1:]  # a glyph the mic icon became
    if len(words) > 1 and len(words[-1]) == 1 and words[-1].isalpha() and script_of(words[-1]) != script_of(text):
        words = words[:-1]  # a stray letter of another script after the name
    text = " ".join(words)
    text = text.strip()
    return f"{text}{mark}" if text else text


def script_of(text: str) -> str:
    """The script most of the letters belong to, from their Unicode names ("LATIN", "HANGUL")."""
    scripts = [unicodedata.name(c, "UNKNOWN").split(" ")[0] for c in text if c.isalpha()]
    return max(set(scripts), key=scripts.count) if scripts else ""


def truncation_mark(text: str) -> str:
    cut = TRUNCATION.search(" ".join(text.split()))
    return (" ..." if cut.group(0).startswith(" ") else "...") if cut else ""


def red_icon_end(line: np.ndarray) -> int:
    """The column where a red mic icon at the start of a text line ends (0 when there is none)."""
    if line.ndim != 3 or line.size == 0:
        return 0
    hsv = cv2.cvtColor(line[..., :3], cv2.COLOR_BGR2HSV)
    red = ((hsv[..., 0] < 10) | (hsv[..., 0] > 170)) & (hsv[..., 1] > 100) & (hsv[..., 2] > 120)
    left = red[:, : max(1, int(line.shape[0] * 1.5))].astype(np.uint8)  # within a glyph or two of the start
    count, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(left, np.ones((3, 3), np.uint8)))
    limit = 1.2 * line.shape[0]  # an icon is about a letter's size; red video content is larger
    least = (0.3 * line.shape[0]) ** 2  # an icon's strokes, not a few reddish pixels of skin
    icons = [s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= least and s[2] <= limit and s[3] <= limit]
    if not icons:
        return 0
    icon = min(icons, key=lambda s: s[0])
    return int(icon[0] + icon[2]) + 3


def fingerprint(region: np.ndarray) -> str:
    gray = region if region.ndim == 2 else cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (48, 12), interpolation=cv2.INTER_AREA) // 32
    return hashlib.blake2b(small.tobytes() + bytes(str(gray.shape), "ascii"), digest_size=12).hexdigest()


def tessdata_folder() -> Path | None:
    """$TESSDATA_PREFIX, else Debian's folder; None when no script models are installed."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")] + [
        str(p) for p in sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"), reverse=True)
    ]
    for folder in candidates:
        if folder and (Path(folder) / "Latin.traineddata").is_file():
            return Path(folder)
    return None


class ScriptReader:
    """Tesseract, one API per script model; read() gives (text, confidence 0-100)."""

    def __init__(self, scripts: tuple[str, ...] = DEFAULT_SCRIPTS):
        import tesserocr

        folder = tessdata_folder()
        if folder is None:
            raise RuntimeError("no Tesseract script models (apt-get install tesseract-ocr-script-latn)")
        available = [s for s in scripts if (folder / f"{s}.traineddata").is_file()]
        missing = sorted(set(scripts) - set(available))
        if missing:
            logger.warning("no Tesseract model for %s in %s; those names will not be read", ", ".join(missing), folder)
        self._apis = {
            s: tesserocr.PyTessBaseAPI(path=f"{folder}/", lang=s, psm=tesserocr.PSM.SINGLE_LINE) for s in available
        }
        self.scripts = tuple(available)

    def read(self, line: np.ndarray, script: str) -> tuple[str, int, list[int]]:
        """(text, mean confidence, confidence of each word), confidences 0-100, of a cleaned
        line (dark on light); symbols() boxes are in the line with the margin read() adds."""
        from PIL import Image

        api = self._apis[script]
        line = with_margin(line, max(8, line.shape[0] // 2), True)  # Tesseract drops a glyph touching the edge
        api.SetImage(Image.fromarray(line))
        text = api.GetUTF8Text().strip()
        if script == "Hangul":
            text = with_inked_spaces(tight_brackets(join_syllables(text)), line)
        return text, int(api.MeanTextConf()), list(api.AllWordConfidences())

    def symbols(self, script: str) -> list[tuple[str, tuple[int, int, int, int]]]:
        """The last read line's symbols with their boxes (x1, y1, x2, y2), in reading order."""
        from tesserocr import RIL, iterate_level

        iterator = self._apis[script].GetIterator()
        found = []
        if iterator is None:
            return []
        for symbol in iterate_level(iterator, RIL.SYMBOL):
            try:
                text, box = symbol.GetUTF8Text(RIL.SYMBOL), symbol.BoundingBox(RIL.SYMBOL)
            except RuntimeError:  # an empty symbol ("No text returned")
                continue
            if text and box:
                found.append((text, tuple(box)))
        return found


def join_syllables(text: str) -> str:
    """Tesseract's Hangul model puts a space after nearly every syllable ("김 선 경"); Korean
    names are written together, so a lone syllable joins the Hangul word after it."""
    out: list[str] = []
    lone_before = False
    for word in text.split():
        lone = _syllables(word) == 1
        if out and _syllables(word) and (lone_before or lone) and _syllables(out[-1]):
            out[-1] += word
        else:
            out.append(word)
        lone_before = lone
    return " ".join(out)


def with_inked_spaces(text: str, line: np.ndarray) -> str:
    """A space put back between two Hangul syllables where the ink shows one: join_syllables
    closes every gap Tesseract opened, but "(초급)강 미숙" has a real one after the surname.
    Syllables stand about a tenth of an em apart, a space leaves a third of one; each blank
    that wide is given to the character boundary nearest it, placed by the characters'
    usual widths along the line's ink."""
    chars = text.replace(" ", "")
    if len(chars) < 2 or not _syllables(chars):
        return text
    gray = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return text
    em = rows[-1] - rows[0] + 1
    x0, x1 = columns[0], columns[-1] + 1
    blanks = runs(~ink[:, x0:x1].any(axis=0), max(2, int(SPACE_GAP * em)))
    widths = np.array([char_width(c) for c in chars])
    inked = (x1 - x0) - sum(b - a for a, b in blanks)
    boundaries = np.cumsum(widths)[:-1] / widths.sum() * inked  # after chars[i], in ink columns
    spaced = set(np.cumsum([len(w) for w in text.split()])[:-1])  # boundaries Tesseract spaced
    removed = 0
    for a, b in blanks:
        position = a - removed  # the blank's place along the ink alone
        removed += b - a
        at = int(np.argmin(np.abs(boundaries - position)))
        if abs(boundaries[at] - position) <= em and _syllables(chars[at] + chars[at + 1]) == 2:
            spaced.add(at + 1)
    return "".join((" " if i in spaced else "") + c for i, c in enumerate(chars))


def char_width(c: str) -> float:
    """A character's usual advance in ems (Hangul and CJK square, Latin and digits about half)."""
    if "\uac00" <= c <= "\ud7a3" or unicodedata.east_asian_width(c) in "WF":
        return 1.0
    return 0.55 if c.isalnum() else 0.35


def tight_brackets(text: str) -> str:
    """Korean tags write brackets against the Hangul and digits they hold or follow
    ("김선경(20200756)", "(초급)강"); Tesseract spaces them apart."""
    text = re.sub(r"(?<=[\uac00-\ud7a3\d])\s+\(", "(", text)
    text = re.sub(r"\)\s+(?=[\uac00-\ud7a3])", ")", text)
    return re.sub(r"\(\s+|\s+\)", lambda m: m.group(0).strip(), text)


def _syllables(word: str) -> int:
    return sum("\uac00" <= c <= "\ud7a3" for c in word)


def with_margin(line: np.ndarray, margin: int, constant: bool) -> np.ndarray:
    if constant:
        return cv2.copyMakeBorder(line, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=int(np.median(line)))
    return cv2.copyMakeBorder(line, margin, margin, margin, margin, cv2.BORDER_REPLICATE)


@dataclass
class TagVotes:
    """One tag's readings on crops a pixel apart; its name is the one most of them read."""

    region: np.ndarray | None  # the tag's pixels, kept until CROPS crops are read
    lowest: bool
    votes: Counter = field(default_factory=Counter)
    crops_read: int = 0
    seen: int = 0  # the NameReader's capture count when the tag was last on screen

    def add(self, reading: str | None) -> None:
        self.votes[reading] += 1
        self.crops_read += 1
        if self.crops_read >= len(CROPS):
            self.region = None

    @property
    def name(self) -> str | None:
        """The reading most crops gave (the first read of those tied), any name before none."""
        named = {r: n for r, n in self.votes.items() if r is not None}
        return max(named, key=named.__getitem__) if named else None


def cropped(region: np.ndarray, trim: tuple[int, int, int, int]) -> np.ndarray:
    """The region with (top, bottom, left, right) pixels trimmed off: the same tag as a tile
    box a pixel off would cut it."""
    top, bottom, left, right = trim
    return region[top : region.shape[0] - bottom, left : region.shape[1] - right]


class NameReader:
    """Names of tiles, cached by tag; read() for one tile, read_all() for a capture's tiles
    (new tags are read in parallel, one OCR engine per core: a first capture of 25 tags).
    A tag's reading hangs on the pixel its tile box starts at (the real Korean class's tags,
    each read on 27 crops a pixel apart: 70 % of crops exact, the majority of each tag's 27
    right for 22 of 25), so each capture after a tag is first read, settle() reads it again on
    another crop, one tag per OCR engine, until CROPS crops vote on its name."""

    def __init__(self, scripts: tuple[str, ...] | None = DEFAULT_SCRIPTS, cache_size: int = 512, workers: int = 0):
        workers = workers or min(2, os.cpu_count() or 1)
        self._engines = [TagReader(scripts) for _ in range(workers)]
        self._free: queue.SimpleQueue[TagReader] = queue.SimpleQueue()
        for engine in self._engines:
            self._free.put(engine)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr") if workers > 1 else None
        self._cache: OrderedDict[str, TagVotes] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self.ocr_calls = 0
        self.captures = 0  # settle() calls: one a capture

    def read(self, tile: np.ndarray, camera_on: bool) -> str | None:
        for region, lowest in tag_regions(tile, camera_on):
            if region.size == 0 or min(region.shape[:2]) < 4:
                continue
            key = fingerprint(region)
            with self._lock:
                tag = self._cache.get(key)
                if tag is not None:
                    self._cache.move_to_end(key)
                    tag.seen = self.captures
            if tag is None:
                tag = TagVotes(region.copy(), lowest, seen=self.captures)
                self._read_crop(tag)
                with self._lock:
                    self._cache[key] = tag
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
            if tag.name:
                return tag.name
        return None

    def read_all(self, tiles: list[tuple[np.ndarray, bool]]) -> list[str | None]:
        if self._pool is None or len(tiles) < 2:
            return [self.read(image, on) for image, on in tiles]
        return list(self._pool.map(lambda item: self.read(*item), tiles))

    def settle(self) -> int:
        """Read one more crop of the tags on screen since the last call that were read on fewest
        crops so far, one tag per OCR engine; the number read (0 once those tags' names are
        settled). A tag gone from the screen (the video behind it changed) is not worth it: its
        pixels are dropped, and its name stays what its crops read so far."""
        with self._lock:
            for gone in (t for t in self._cache.values() if t.seen != self.captures):
                gone.region = None
            on_screen = [t for t in self._cache.values() if t.region is not None]
            chosen = sorted(on_screen, key=lambda t: t.crops_read)[: len(self._engines)]
            self.captures += 1
        if self._pool is None or len(chosen) < 2:
            for tag in chosen:
                self._read_crop(tag)
        else:
            list(self._pool.map(self._read_crop, chosen))
        return len(chosen)

    @property
    def settling(self) -> int:
        """Tags whose names still wait for crops to be read."""
        with self._lock:
            return sum(t.region is not None for t in self._cache.values())

    def _read_crop(self, tag: TagVotes) -> None:
        """The tag's next crop read and its vote counted."""
        region = tag.region
        if region is None:
            return
        engine = self._free.get()
        try:
            reading = engine.recognize(cropped(region, CROPS[tag.crops_read]), tag.lowest)
        finally:
            self._free.put(engine)
        with self._lock:
            self.ocr_calls += 1
            tag.add(reading)


class TagReader:
    """One OCR engine pair (RapidOCR finds and reads the line, Tesseract per script); not
    shared between threads."""

    def __init__(self, scripts: tuple[str, ...] | None = DEFAULT_SCRIPTS):
        from rapidocr_onnxruntime import RapidOCR

        # The default detector scales every input up to 736 px (1-2 s a tag on 2 cores);
        # tag strips are small, so capping at 640 px keeps a read near 40 ms.
        self._ocr = RapidOCR(det_limit_type="max", det_limit_side_len=640, intra_op_num_threads=1)
        self._latin = latin_recognizer()
        self._scripts = None
        if scripts:
            try:
                self._scripts = ScriptReader(scripts)
            except (ImportError, RuntimeError) as exc:
                logger.warning("names in Latin letters without accents only: %s", exc)
        self._lines = tag_line_reader()

    def recognize(self, region: np.ndarray, lowest: bool) -> str | None:
        scale = max(2.0, STRIP_HEIGHT_PX / region.shape[0])
        for tried in (scale, scale * RETRY_SCALE):
            scaled = cv2.resize(region, None, fx=tried, fy=tried, interpolation=cv2.INTER_CUBIC)
            scaled, boxes = self._text_boxes(scaled)
            if boxes:
                break
        if not boxes:
            return None
        # A tag strip: the tag sits lowest, under any text filmed in the video; a camera-off
        # tile: the largest text in the middle.
        anchor = max(boxes, key=_bottom) if lowest else max(boxes, key=_height)
        if _height(anchor) < SMALL_TEXT_PX:
            # Small letters on a tall strip (a small window's tags): the detector boxes a
            # word or two of them, and other words at another scale. Looked at again with the
            # text, not the strip, at the size it reads best; the line is what either saw.
            again = tried * TEXT_HEIGHT_PX / _height(anchor)
            resized = cv2.resize(region, None, fx=again, fy=again, interpolation=cv2.INTER_CUBIC)
            rescaled, found = self._text_boxes(resized)
            if found:
                scaled, anchor = rescaled, rescaled_box(anchor, again / tried, BOX_MARGIN)
                boxes = found + [rescaled_box(b, again / tried, BOX_MARGIN) for b in boxes]
        region = scaled
        on_line = same_line(boxes, anchor)
        line = tag_line(region, on_line)
        if line is None:
            return None
        text = clean_name(self._read_line(line))
        if reads_nothing(text):
            return None
        return text if truncation_mark(text) else text + trailing_ellipsis(region, on_line)

    def _text_boxes(self, region: np.ndarray) -> tuple[np.ndarray, list]:
        """The text detector's boxes in the strip, with a margin around it (text on the edge
        is missed): the edge pixels repeated, and where that finds nothing, a margin of the
        strip's median colour (a tag on the tile's bottom edge repeats into streaks)."""
        padded = cv2.copyMakeBorder(region, *[BOX_MARGIN] * 4, cv2.BORDER_REPLICATE)
        boxes, _ = self._ocr(padded, use_rec=False, use_cls=False)
        if boxes:
            return padded, boxes
        channels = region.shape[2] if region.ndim == 3 else 1
        median = [int(v) for v in np.median(region.reshape(-1, channels), axis=0)]
        padded = cv2.copyMakeBorder(region, *[BOX_MARGIN] * 4, cv2.BORDER_CONSTANT, value=median)
        boxes, _ = self._ocr(padded, use_rec=False, use_cls=False)
        return padded, boxes or []

    def _read_line(self, line: np.ndarray) -> str:
        """PP-OCRv6 (`rapid_text`, from the rapidocr wheel) and Tesseract on the cleaned line:
        PP-OCRv6's spelling where both read the same letters (Tesseract's accents where only it
        saw them), else the surer reading, else another script. A Hangul name our line reader
        reads surely is taken first (Tesseract reads a quarter of them), and unsurely where the
        other engines read nothing."""
        return settled_reading(self._hangul(line), lambda: self._other_engines(line))

    def _other_engines(self, line: np.ndarray) -> str:
        """PP-OCRv6 and Tesseract's Latin and other script models, as `_read_line` says."""
        found = self._latin(cv2.cvtColor(with_margin(line, 8, False), cv2.COLOR_GRAY2BGR), use_det=False, use_cls=False)
        rapid_text, rapid_score = (found.txts[0], float(found.scores[0])) if found.txts else ("", 0.0)
        if self._scripts is None:
            return rapid_text if rapid_score >= MIN_CONFIDENCE else ""
        text, confidence, word_confidences = self._scripts.read(line, "Latin")
        text = with_inked_accents(text, self._scripts.symbols("Latin"), word_confidences)
        agree = normalize_name(without_accents(text)) == normalize_name(without_accents(rapid_text))
        if agree and confidence >= LATIN_SURE and name_like(text):
            return accented(text, rapid_text)
        # The engines disagree, or agree unsurely (both read Cyrillic or Hebrew as Latin
        # look-alikes, "AHHa CMMpHOBa"): a name in another script? Each script model reads
        # its own letters surely; Latin text it reads too, and then it vouches for the Latin
        # reading (Tesseract's Latin model is unsure of a long single word: "AdrianMiranda").
        # Two engines agree on a non-Latin name only where its letters look Latin (Cyrillic);
        # then that model is read, and one more as a witness for the Latin text.
        others = [s for s in self._scripts.scripts if s != "Latin" and (not agree or s in AGREED_UNSURE)]
        readings = {s: self._scripts.read(line, s)[:2] for s in others}
        # A Latin reading of fewer than two letters ("17", "m": what a short Hebrew word looks
        # like to Latin models) is no name, and no evidence against another script's.
        latin = {normalize_name(without_accents(t)) for t in (text, rapid_text) if name_like(t)}
        vouched = [c for t, c in readings.values() if normalize_name(without_accents(t)) in latin]
        latin_confidence = max([confidence if name_like(text) else 0, *vouched])
        own = [(c, t) for s, (t, c) in readings.items() if script_of(t) == SCRIPT_LETTERS.get(s)]
        best = max(own, default=None)
        if best and best[0] >= max(latin_confidence + OTHER_SCRIPT_MARGIN, 60):
            return best[1]
        if agree:
            return accented(text, rapid_text)
        if confidence >= TESSERACT_SURE and alike_but_accents(text, rapid_text):
            return with_capitals_of(text, rapid_text)  # a marked letter PP-OCRv6 read bare (Å, İ)
        # The two Latin readings differ: the surer engine. Tesseract's other script models are no
        # witnesses here: they share its errors ("Łukasz" read "tukasz" by all seven at 8 px).
        if confidence >= TESSERACT_SURE and rapid_score < RAPID_SURE:
            return text
        return rapid_text if rapid_score >= MIN_CONFIDENCE else ""

    def _hangul(self, line: np.ndarray) -> tuple[str, float] | None:
        """Our line reader's Hangul reading and its confidence; None for another script or a
        letter that made no syllable (the reading is broken)."""
        if self._lines is None:
            return None
        reading = self._lines.read([line])[0]
        if script_of(reading.text) != "HANGUL" or any(c in JAMO for c in reading.text):
            return None
        return reading.text, reading.confidence


def settled_reading(hangul: tuple[str, float] | None, read_others: Callable[[], str]) -> str:
    """One line's reading: our line reader's Hangul (text, confidence) where it is sure, else
    what the other engines read (`read_others`, run only then), else, where they read nothing
    and it is not quite unsure, our Hangul after all: a near reading finds the student on a
    class list and keeps the tag's participant, where nothing would."""
    if hangul and hangul[1] >= HANGUL_SURE:
        return hangul[0]
    text = read_others()
    if hangul and hangul[1] >= HANGUL_RATHER_THAN_NOTHING and reads_nothing(clean_name(text)):
        return hangul[0]
    return text


def name_like(reading: str) -> bool:
    """At least two letters: what any name's reading has, and a number or a stray mark has not."""
    return sum(c.isalpha() for c in reading) >= 2


def reads_nothing(cleaned: str) -> bool:
    """A cleaned reading too short to be a name (a stray mark, one letter)."""
    return len(normalize_name(cleaned)) < 2


def tag_line_reader() -> TagLineReader | None:
    """The shipped tag line reader; without its file, Tesseract alone reads Hangul (one warning)."""
    try:
        return TagLineReader()
    except TagLinesModelError as exc:
        logger.warning("Hangul names read by Tesseract alone: %s", exc)
        return None


def accented(tesseract: str, latin: str) -> str:
    """Two readings of the same letters: the Latin model's, with an accent Tesseract saw where
    it saw none (its marks are kept only where the ink shows them), in the Latin model's case."""
    if tesseract.isascii():
        return latin.strip()
    if latin.isascii():
        return with_capitals_of(tesseract, latin) + truncation_mark(latin)
    return with_marks_of(tesseract, latin)


def with_marks_of(tesseract: str, latin: str) -> str:
    """The Latin model's reading with Tesseract's accented letter where the Latin model read
    the same letter bare: it reads Turkish İ as "i" ("irem Şahin")."""
    if len(without_accents(tesseract)) != len(tesseract) or len(without_accents(latin)) != len(latin):
        return latin.strip()  # letters that do not pair one to one (a combining mark left alone)
    letters = list(latin)
    for i, j in paired_letters(without_accents(tesseract), without_accents(latin)):
        if tesseract[i] != without_accents(tesseract[i]) and latin[j] == without_accents(latin[j]):
            letters[j] = in_case_of(tesseract[i], latin[j])
    return "".join(letters).strip()


def latin_recognizer():
    """PP-OCRv6's multilingual Latin line model, shipped inside the rapidocr wheel: it reads
    accents (José, Hernández) and small tags better than the older Chinese-English model."""
    from rapidocr import RapidOCR

    settings = {"Global.log_level": "error", "Global.text_score": 0.0}  # scores are weighed here
    return RapidOCR(params={**settings, "EngineConfig.onnxruntime.intra_op_num_threads": 1})


def alike_but_accents(marked: str, plain: str) -> bool:
    """Two readings of one tag that differ only where one engine missed a letter with a mark or
    a stroke that the other read (José/Jose, Łukasz/tukasz): at most one letter in ten apart
    once accents are dropped."""
    if marked.isascii():
        return False  # no letter the other lacks: the difference is a misreading of one of them
    a, b = normalize_name(without_accents(marked)), normalize_name(without_accents(plain))
    return bool(a) and difflib.SequenceMatcher(None, a, b).ratio() >= 0.9


def with_capitals_of(text: str, rapid: str) -> str:
    """Tesseract's letters with RapidOCR's capitals where both read the same letter (accents
    aside): Tesseract takes a capital Z or I with a mark for a small one ("zoë" for "Zoë")."""
    plain = without_accents(text)
    if len(plain) != len(text):
        return text  # letters that do not pair one to one (a combining mark left alone)
    letters = list(text)
    for i, j in paired_letters(plain, rapid):
        letters[i] = in_case_of(letters[i], rapid[j])
    return "".join(letters)


def paired_letters(a: str, b: str) -> list[tuple[int, int]]:
    """(position in a, position in b) of each letter two readings share, case aside; the
    differences between them (a misread letter, a space) are stepped over."""
    matcher = difflib.SequenceMatcher(None, folded(a), folded(b), autojunk=False)
    return [(i + k, j + k) for i, j, size in matcher.get_matching_blocks() for k in range(size)]


def in_case_of(letter: str, model: str) -> str:
    """`letter` in `model`'s case; as it is where that case is no single letter (İ lowers to two)."""
    recased = letter.upper() if model.isupper() else letter.lower()
    return recased if len(recased) == 1 else letter


def folded(word: str) -> list[str]:
    """Each letter in small case, one for one (a letter that lowers to two keeps the first)."""
    return [c.lower()[:1] for c in word]


def with_inked_accents(text: str, symbols: list[tuple[str, tuple[int, int, int, int]]], confidences: list[int]) -> str:
    """Tesseract's reading with an accent kept where the ink shows it: a mark above reaches
    higher than the letters of its kind (small letters' x-height, capitals' height), a mark
    below lower than the baseline. Tesseract also adds accents that are not there ("Jüan"),
    and RapidOCR, which reads none, cannot tell. Where the line has no letters to compare
    with, the words Tesseract is sure of keep theirs."""
    heights = letter_heights(symbols)
    if heights is None or "".join(s for s, _ in symbols) != "".join(text.split()):
        return with_sure_accents(text, confidences)
    kept = iter([mark_in_ink(symbol, box, heights) for symbol, box in symbols])
    return "".join(c if c.isspace() or next(kept) else without_accents(c) for c in text)


def letter_heights(symbols: list[tuple[str, tuple[int, int, int, int]]]) -> tuple[float, float, float] | None:
    """(top of small letters, top of capitals and ascenders, baseline) of a line, from its
    plain letters; None without enough of them."""
    small = [box[1] for s, box in symbols if s in "acemnorsuvwxz"]
    tall = [box[1] for s, box in symbols if s in "bdfhklt" or (s.isascii() and s.isupper())]
    base = [box[3] for s, box in symbols if s.isascii() and s.isalpha() and s not in "gjpqyQ"]
    if not small or not tall or not base:
        return None
    return float(np.median(small)), float(np.median(tall)), float(np.median(base))


def mark_in_ink(symbol: str, box: tuple[int, int, int, int], heights: tuple[float, float, float]) -> bool:
    """Does the symbol's box reach where its accent would be? True for a symbol without one."""
    marks = [unicodedata.combining(c) for c in unicodedata.normalize("NFD", symbol)[1:]]
    if not marks:
        return True
    small_top, tall_top, baseline = heights
    x_height = max(baseline - small_top, 1.0)
    if any(m >= 230 for m in marks):  # above
        top = tall_top if without_accents(symbol).isupper() or without_accents(symbol) in "bdfhklt" else small_top
        return box[1] <= top - MARK_REACH * x_height
    return box[3] >= baseline + MARK_REACH * x_height  # below: a cedilla, an ogonek


def with_sure_accents(text: str, confidences: list[int], sure: int = ACCENT_SURE) -> str:
    """Tesseract's reading with the accents kept only on words it is sure of (RapidOCR, which
    read the same letters, sees no accents at all)."""
    words = text.split()
    if len(confidences) != len(words):
        return text if min(confidences, default=0) >= sure else without_accents(text)
    return " ".join(w if c >= sure else without_accents(w) for w, c in zip(words, confidences))


def _top(box) -> float:
    return min(p[1] for p in box)


def _bottom(box) -> float:
    return max(p[1] for p in box)


def _height(box) -> float:
    return _bottom(box) - _top(box)


def rescaled_box(box, factor: float, margin: int) -> list[tuple[float, float]]:
    """A text box found in a strip with `margin` pixels around it, in the strip scaled by `factor`
    with the same margin."""
    return [((x - margin) * factor + margin, (y - margin) * factor + margin) for x, y in box]


def same_line(boxes, anchor):
    """All text boxes whose vertical centre lies within the anchor's line, left to right."""
    top, bottom = _top(anchor), _bottom(anchor)
    on_line = [b for b in boxes if top <= (_top(b) + _bottom(b)) / 2 <= bottom]
    return sorted(on_line, key=lambda b: min(p[0] for p in b))


def trailing_ellipsis(region: np.ndarray, boxes) -> str:
    """Zoom's truncation mark where the text detector left it out of the line (it boxes
    "Hermosilla ..." up to the "a"): three small dots of one size on one line just right of
    the last letter. " ..." when a space comes before them, "..." right after a letter, ""
    when there are none."""
    xs = [p[0] for b in boxes for p in b]
    ys = [p[1] for b in boxes for p in b]
    top, bottom, right = int(min(ys)), int(max(ys)), int(max(xs))
    height = bottom - top
    x0, x1 = max(0, right - height), min(region.shape[1], right + int(ELLIPSIS_REACH * height))
    band, text = region[max(0, top) : bottom, x0:x1], region[max(0, top) : bottom, max(0, int(min(xs))) : right]
    if band.size == 0 or text.size == 0:
        return ""
    band = band if band.ndim == 2 else cv2.cvtColor(band, cv2.COLOR_BGR2GRAY)
    if np.median(text) < 128:  # light letters on a dark tag, told from the text's own box (not the video past it)
        band = 255 - band
    if band.min() == band.max():
        return ""
    _, ink = cv2.threshold(band, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    parts = list(zip(stats[1:count], centres[1:count]))
    spans = [s[1] == 0 and s[1] + s[3] >= band.shape[0] for s, _ in parts]  # the tag's end, video past it
    letters = [s for (s, _), span in zip(parts, spans) if s[cv2.CC_STAT_HEIGHT] >= 0.35 * height and not span]
    if not letters:
        return ""
    end = max(s[0] + s[2] for s in letters)
    letter_height = float(np.median([s[3] for s in letters]))
    dots = sorted(
        ((s, c) for s, c in parts if s[0] >= end and max(s[2], s[3]) <= 0.25 * letter_height + 1 and s[4] >= 2),
        key=lambda d: d[0][0],
    )
    if len(dots) != 3:
        return ""
    ys_, xs_ = [c[1] for _, c in dots], [c[0] for _, c in dots]
    steps = np.diff(xs_)
    if max(ys_) - min(ys_) > 0.15 * letter_height or min(ys_) < band.shape[0] / 2:
        return ""  # not on one line low in the text: not a truncation mark
    if steps.min() <= 0 or steps.max() > 1.6 * steps.min() or steps.max() > 0.6 * letter_height:
        return ""
    gap = dots[0][0][0] - end
    if gap > 1.2 * letter_height:
        return ""
    return " ..." if gap >= SPACE_GAP * letter_height else "..."


def tag_line(region: np.ndarray, boxes) -> np.ndarray | None:
    """The line's pixels, the mic icon cut off, as dark text on a light ground (both engines
    read that best)."""
    xs = [p[0] for b in boxes for p in b]
    ys = [p[1] for b in boxes for p in b]
    pad = max(4, int(0.15 * (max(ys) - min(ys))))
    x0, y0 = max(0, int(min(xs)) - pad), max(0, int(min(ys)) - pad)
    line = region[y0 : int(max(ys)) + pad, x0 : int(max(xs)) + pad]
    cut = red_icon_end(line)
    line = line[:, cut:]
    if line.size == 0 or line.shape[1] < NARROWEST_NAME * (max(ys) - min(ys)):
        return None  # nothing but the icon (a camera-off tile's corner)
    text = (int(min(xs)) - x0 - cut, int(min(ys)) - y0, int(max(xs)) - x0 - cut, int(max(ys)) - y0)
    return without_surroundings(as_dark_on_light(line), text)


def without_surroundings(gray: np.ndarray, text: tuple[int, int, int, int]) -> np.ndarray:
    """The line with the ink outside the detected text box `text` (x0, y0, x1, y1) painted
    over, but for glyphs that stick out of it (a descender, an accent): the margin holds the
    tag box's edge, the icon and the video around it, read as "|", "l", "j" or a quote, and
    lowering the engines' confidence in the name's accents."""
    if gray.size == 0 or min(gray.shape) < 3:
        return gray
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if not (ink == 0).any():
        return gray
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    outside = np.ones(gray.shape, bool)
    outside[max(0, text[1]) : max(0, text[3]), max(0, text[0]) : max(0, text[2])] = False
    out_share = np.bincount(labels[outside], minlength=count) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    around = np.flatnonzero(out_share > HALF_OUTSIDE)
    around = around[around > 0]
    if around.size == 0:
        return gray
    cleaned = gray.copy()
    cleaned[np.isin(labels, around) & outside] = int(np.median(gray[ink == 0]))
    return cleaned
