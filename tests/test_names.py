"""The name reader's pure steps (agent.names), on hand-made lines and symbol boxes."""

from __future__ import annotations

import numpy as np

from agent.names import (
    accented,
    alike_but_accents,
    mark_in_ink,
    name_like,
    settled_reading,
    with_capitals_of,
    with_inked_accents,
    without_surroundings,
)

# Letters of a line: small ones from y=20, capitals and ascenders from y=8, baseline 50.
PLAIN = [("J", (0, 8, 20, 50)), ("n", (50, 20, 70, 50))]


def test_an_accent_is_kept_only_where_the_ink_reaches_above_the_letters():
    assert mark_in_ink("ü", (25, 10, 45, 50), (20.0, 8.0, 50.0))  # dots above the x-height
    assert not mark_in_ink("ü", (25, 20, 45, 50), (20.0, 8.0, 50.0))  # a plain u
    juan = [PLAIN[0], ("ü", (25, 20, 45, 50)), ("a", (50, 20, 70, 50)), PLAIN[1]]
    assert with_inked_accents("Jüan", juan, [96]) == "Juan"  # Tesseract's sure "Jüan" on a real tag
    zoe = [("Z", (0, 8, 20, 50)), ("o", (25, 20, 45, 50)), ("ë", (50, 11, 70, 50)), ("l", (75, 8, 80, 50))]
    assert with_inked_accents("Zoël", zoe, [60]) == "Zoël"  # the ink decides, not the word's confidence


def test_a_capital_s_mark_and_a_cedilla_are_measured_against_their_own_kind():
    heights = (20.0, 8.0, 50.0)
    assert mark_in_ink("Å", (0, 0, 20, 50), heights) and not mark_in_ink("Å", (0, 8, 20, 50), heights)
    assert mark_in_ink("ç", (0, 20, 20, 58), heights) and not mark_in_ink("ç", (0, 20, 20, 50), heights)
    assert mark_in_ink("ł", (0, 8, 20, 50), heights)  # a stroke through the letter: nothing to measure


def test_without_letters_to_compare_with_the_sure_words_keep_their_accents():
    assert with_inked_accents("Éé Ôô", [("É", (0, 0, 9, 9))], [95, 60]) == "Éé Oo"


def test_capitals_come_from_the_reading_that_has_them():
    assert with_capitals_of("zoë Müller", "Zoe Mauller") == "Zoë Müller"  # aligned past a misread letter
    assert with_capitals_of("İlker", "ilker") == "İlker"  # İ has no one-letter small form to take
    assert with_capitals_of("josé", "Jose") == "José"


def test_an_accent_only_tesseract_saw_is_added_to_the_latin_models_reading():
    assert accented("İrem Şahin", "irem Şahin") == "İrem Şahin"  # PP-OCRv6 reads Turkish İ as "i"
    assert accented("Jose Hernández", "José Hernandez") == "José Hernández"  # each keeps what it saw
    assert accented("Ana Lima", "Ana Lima, @ana_b") == "Ana Lima, @ana_b"  # no accent: the Latin model's
    assert accented("Zoë Müller", "Zoe Muller") == "Zoë Müller"


def test_two_readings_alike_but_a_marked_letter_are_told_from_two_names():
    assert alike_but_accents("Łukasz Kowalski", "tukasz Kowalski")  # PP-OCRv6 saw Ł, Tesseract a t
    assert alike_but_accents("José Núñez", "Jose Nunez")
    assert alike_but_accents("Åsa Lindqvist", "Àsa Lindqvist")  # both marked, one of them wrongly
    assert not alike_but_accents("Jose Nunez", "José Núñez")  # the marked reading comes first
    assert not alike_but_accents("Chloé Martin", "Claire Martin")


def test_ink_around_the_detected_text_is_painted_over_but_not_a_glyph_sticking_out():
    line = np.full((60, 200), 230, np.uint8)
    line[:, 0:3] = 20  # the tag box's edge, in the margin
    line[15:45, 40:60] = 20  # a letter inside the text box
    line[15:56, 100:110] = 20  # a letter with a descender below the box
    cleaned = without_surroundings(line, (10, 12, 190, 48))
    assert (cleaned[:, 0:3] == 230).all()
    assert (cleaned[15:45, 40:60] == 20).all() and (cleaned[15:56, 100:110] == 20).all()


def hangul_line(text: str) -> np.ndarray:
    """The name drawn dark on light with Noto Sans CJK, as a tag line reaches the readers."""
    import cv2
    import pytest

    from bench.gallery import draw_text, fonts_available

    if not fonts_available(text):
        pytest.skip("needs Debian's fonts-noto-cjk to draw Hangul")
    line = np.full((60, 400, 3), 255, np.uint8)
    draw_text(line, text, (10, 8), 36, (0, 0, 0))
    return cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)


def test_a_space_between_hangul_syllables_is_put_back_only_where_the_ink_shows_one():
    from agent.names import join_syllables, with_inked_spaces

    assert join_syllables("(초급)강 미 숙") == "(초급)강미숙"  # Tesseract's spaces all closed ...
    assert with_inked_spaces("(초급)강미숙", hangul_line("(초급)강 미숙")) == "(초급)강 미숙"  # ... the real one back
    assert with_inked_spaces("김선경", hangul_line("김선경")) == "김선경"
    assert with_inked_spaces("20200759 양예지", hangul_line("20200759 양예지")) == "20200759 양예지"


def tag_strip(text: str, size: int = 14, video=(90, 140, 60)) -> tuple[np.ndarray, list]:
    """White text on Zoom's dark tag box over video, scaled x2 as the reader scales a strip;
    with the box a text detector would give for the text before any "...": the dots left out."""
    import cv2
    import pytest

    from bench.gallery import draw_text, fonts_available, text_width

    if not fonts_available(text):
        pytest.skip("needs Debian's fonts-noto-core to draw the tag")
    strip = np.full((2 * size, 12 + text_width(text, size) + 60, 3), video, np.uint8)
    strip[2:-2, : 12 + text_width(text, size)] = 35  # the tag box
    draw_text(strip, text, (6, size // 3), size, (255, 255, 255))
    strip = cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    letters = text.removesuffix("...").rstrip()
    right = 2 * (6 + text_width(letters, size)) + 4
    return strip, [[(8, 10), (right, 10), (right, 2 * size * 2 - 10), (8, 2 * size * 2 - 10)]]


def test_zooms_truncation_left_out_of_the_text_box_is_found_with_its_space():
    from agent.names import trailing_ellipsis

    assert trailing_ellipsis(*tag_strip("José Manuel Hermosilla ...")) == " ..."
    assert trailing_ellipsis(*tag_strip("José Manuel Hermosilla ...", video=(235, 235, 235))) == " ..."
    assert trailing_ellipsis(*tag_strip("Francisco Boisier S. (Inac...")) == "..."
    assert trailing_ellipsis(*tag_strip("Elizabeth Hernández C...")) == "..."
    assert trailing_ellipsis(*tag_strip("José Manuel Hermosilla")) == ""
    assert trailing_ellipsis(*tag_strip("Ana Silva (she/her)")) == ""
    assert trailing_ellipsis(*tag_strip("Dr. J. R. R. Tolkien .")) == ""


def test_our_hangul_is_taken_when_sure_and_when_the_other_engines_read_nothing():
    """Sure: taken before the other engines run. Unsure (0.35-0.5): the other engines' reading
    where they have one, ours where they read nothing (a near reading still finds the student on
    a class list). Quite unsure, or no Hangul reading: the other engines' reading, even nothing."""
    asked = []

    def others(text):
        return lambda: asked.append(text) or text

    assert settled_reading(("윤서아", 0.9), others("Yoon")) == "윤서아" and asked == []
    assert settled_reading(("윤서아", 0.43), others("")) == "윤서아"
    assert settled_reading(("윤서아", 0.43), others("' ")) == "윤서아"  # a stray mark is nothing
    assert settled_reading(("윤서아", 0.43), others("שרה לוי")) == "שרה לוי"
    assert settled_reading(("윤서아", 0.30), others("")) == ""
    assert settled_reading(None, others("")) == ""
    assert settled_reading(None, others("Anna")) == "Anna"


def test_a_reading_without_two_letters_is_no_name():
    """What a short Hebrew word looks like to Latin models ("17", "m") is no evidence against
    the Hebrew model's reading; any name has two letters."""
    assert not name_like("17") and not name_like("m") and not name_like("1T") and not name_like("")
    assert name_like("Jo") and name_like("דן") and name_like("20200759 양예지") and name_like("李华")


def test_a_tags_name_is_the_reading_most_of_its_crops_gave():
    from agent.names import CROPS, TagVotes

    tag = TagVotes(np.zeros((20, 80), np.uint8), lowest=True)
    tag.add("Chend Porter")
    assert tag.name == "Chend Porter"  # one reading: that one
    tag.add("Cheryl Porter")
    assert tag.name == "Chend Porter"  # a tie: the first read stays
    tag.add(None)
    tag.add("Cheryl Porter")
    assert tag.name == "Cheryl Porter" and tag.region is not None
    tag.add(None)
    assert tag.crops_read == len(CROPS) and tag.region is None  # settled: its pixels dropped
    assert tag.name == "Cheryl Porter"  # no reading is no vote against a name
    unread = TagVotes(None, lowest=True)
    unread.add(None)
    assert unread.name is None


def test_a_new_tag_is_read_on_each_of_its_crops_over_the_next_captures_then_no_more():
    """A steady gallery costs no OCR once its tags' names are settled."""
    from agent.names import CROPS, NameReader

    strip, _ = tag_strip("Warren Smith")
    tile = np.full((240, 420, 3), (90, 140, 60), np.uint8)
    tile[240 - strip.shape[0] // 2 - 4 : 236, 4 : 4 + strip.shape[1] // 2] = strip[::2, ::2]
    reader = NameReader(workers=1)
    assert reader.read(tile, True) == "Warren Smith" and reader.ocr_calls == 1
    settled = []
    for _ in range(len(CROPS)):  # the next captures: settle(), then the capture's tags read
        settled.append(reader.settle())
        assert reader.read(tile, True) == "Warren Smith"
    assert settled == [1] * (len(CROPS) - 1) + [0] and reader.ocr_calls == len(CROPS) and reader.settling == 0
    # A tag not on the last capture's screen is left unsettled.
    other = NameReader(workers=1)
    other.read(tile, True)
    assert other.settle() == 1 and other.ocr_calls == 2  # it was on screen
    assert other.settle() == 0 and other.ocr_calls == 2  # a capture without it came between
    assert other.settling == 0  # its pixels are not kept
