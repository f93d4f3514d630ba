"""The class list (core.roster): reading it, matching tag readings to it, and the agent using it."""

from __future__ import annotations

import numpy as np
import pytest

from core.roster import RosterError, Student, match_roster, parse_roster, read_roster, similarity

CLASS = """Elizabeth Hernández Castro
Qiyun Zhu
Jefta Lagerwerf
20200756 김선경
20200998 이희래
강미숙
조광현
Ana Silva
Ana Silvia
Anders Holm
"""


@pytest.fixture
def roster():
    return parse_roster(CLASS.encode())


def names(roster, readings):
    return [None if i is None else roster.students[i].name for i in match_roster(readings, roster)]


def test_blank_lines_and_repeats_are_dropped_and_order_kept():
    listed = parse_roster("\ufeffAna Silva\n\n  Ana  Silva \r\nBo Li\n\n".encode())
    assert [s.name for s in listed.students] == ["Ana Silva", "Bo Li"]


def test_a_csv_with_name_and_id_columns():
    listed = parse_roster("id;name;email\n20200756;김선경;k@x\n20200998;이희래;l@x\n".encode())
    assert listed.students == (Student("김선경", "20200756"), Student("이희래", "20200998"))
    same_name = parse_roster(b"name,id\nKim Minji,1001\nKim Minji,1002\n")
    assert len(same_name) == 2  # two students, one name: their numbers tell them apart


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("José Núñez\n김선경\n".encode("cp949", errors="ignore") + "Ñuñez".encode("latin-1"), "not UTF-8"),
        (bytes(range(256)) * 4, "binary"),
        (b"\n\n  \n", "no names"),
        (b"Ana\x07 Silva\n", "control characters"),
    ],
)
def test_a_list_that_cannot_be_used_says_why_in_one_line(data, says):
    with pytest.raises(RosterError, match=says) as caught:
        parse_roster(data, "class.txt")
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(tmp_path / "nope.txt")


def test_tags_cut_short_misread_or_dressed_find_their_student(roster):
    readings = [
        "Elizabeth Hernández C...",  # Zoom's truncation
        "Qlyun Zhu",  # l for i
        "Jefta Lagerwerfhool",  # the tag's background read as letters
        "20200756 召",  # the Hangul unreadable, the student number not
        "(초급)강 미숙",  # a level tag and a space the list does not have
        "조광현 (방청)",  # "(auditor)" after the name
    ]
    assert names(roster, readings) == [
        "Elizabeth Hernández Castro",
        "Qiyun Zhu",
        "Jefta Lagerwerf",
        "20200756 김선경",
        "강미숙",
        "조광현",
    ]


def test_a_hangul_syllable_one_stroke_off_still_matches(roster):
    # 광 misread as 관: one letter of three differs, not a whole character
    assert similarity("조관현", Student("조광현")) > similarity("조관현", Student("조현"))
    assert names(roster, ["조관현"]) == ["조광현"]


def test_better_unmatched_than_wrong(roster):
    readings = ["Nobody Here", "", None, "Ana Silv", "(李)叫", "20201999 이희래"]
    matched = names(roster, readings)
    assert matched[:3] == [None, None, None]
    assert matched[3] is None  # Ana Silva or Ana Silvia: cannot tell
    assert matched[4] is None
    assert matched[5] is None  # the number says another student, though the name is listed
    # one digit off is an OCR slip when the name agrees
    assert names(roster, ["20200990 이희래"]) == ["20200998 이희래"]


def test_one_tile_one_student_over_the_whole_gallery(roster):
    # Both near-identical names are present: each tile takes its own, and a third tile
    # reading the same as one of them does not take a student twice.
    assert names(roster, ["Ana Silvia", "Ana Silva"]) == ["Ana Silvia", "Ana Silva"]
    assert names(roster, ["Ana Silva", "Ana Silva"]).count("Ana Silva") == 1
    # With Ana Silva's tile present, a cut "Ana Silv" can only be Ana Silvia
    assert names(roster, ["Ana Silva", "Ana Silvi..."]) == ["Ana Silva", "Ana Silvia"]


def test_an_absent_student_takes_no_tile(roster):
    matched = names(roster, ["Anders Holm", "Qiyun Zhu"])
    assert "Ana Silva" not in matched and matched == ["Anders Holm", "Qiyun Zhu"]


def test_the_tracker_gives_the_list_name_and_keeps_it_through_a_misread(roster):
    from agent.identity import IdentityTracker

    tracker = IdentityTracker(roster=roster)
    rng = np.random.default_rng(0)
    faces = [rng.integers(0, 255, (135, 240), dtype=np.uint8) for _ in range(3)]
    boxes = [(0, 0, 240, 135), (250, 0, 240, 135), (500, 0, 240, 135)]

    def capture(*readings):
        return tracker.assign((1920, 1080), list(zip(boxes, faces, readings)))

    first = capture("Qlyun Zhu", "(초급)강 미숙", "Guest Speaker")
    assert [(i.label, i.listed) for i in first] == [("Qiyun Zhu", True), ("강미숙", True), ("Guest Speaker", False)]
    second = capture("Q1yun Zh", "(李)叫", None)  # both tags misread, the guest's unread
    assert [i.key for i in second[:2]] == [i.key for i in first[:2]]
    assert [i.label for i in second[:2]] == ["Qiyun Zhu", "강미숙"]
    # the guest's unread tag, where the guest's tile stayed, is still the guest, not a listed student
    assert (second[2].key, second[2].listed) == (first[2].key, False)


def test_the_list_is_stored_with_its_session_and_erased_with_its_student(db_url):
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from agent.pipeline import CaptureResult, TileResult
    from db import store
    from db.engine import make_engine, upgrade
    from db.models import ClassListEntry, Participant
    from db.retention import erase_student, export_student

    engine = make_engine(upgrade(db_url))
    listed = parse_roster("name,id\nQiyun Zhu,1001\n강미숙,1002\nAnders Holm,\n".encode())
    sid = store.start_session(engine, "Chemistry", "monitor 1", 5.0, False, {}, roster=listed)
    tiles = [
        TileResult((0, 0, 240, 135), "name:qiyunzhu#1001", "Qiyun Zhu", True, "no_face", listed=True),
        TileResult((250, 0, 240, 135), "name:guestspeaker", "Guest Speaker", True, "no_face", listed=False),
    ]
    store.write_capture(engine, sid, CaptureResult(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tiles), {}, {})
    with Session(engine) as db:
        entries = db.execute(select(ClassListEntry.name, ClassListEntry.student_id).order_by(ClassListEntry.position))
        assert entries.all() == [("Qiyun Zhu", "1001"), ("강미숙", "1002"), ("Anders Holm", None)]
        assert dict(db.execute(select(Participant.display_name, Participant.listed)).all()) == {
            "Qiyun Zhu": True,
            "Guest Speaker": False,
        }
    found = export_student(engine, "Qiyun Zhu", actor="test")
    assert found["class_lists"] == [{"session": "Chemistry", "name": "Qiyun Zhu", "student_id": "1001"}]
    removed = erase_student(engine, "Qiyun Zhu", actor="test")
    assert (removed.participants, removed.list_entries) == (1, 1)
    assert erase_student(engine, "1002", actor="test").list_entries == 1  # by the student number alone
    with Session(engine) as db:
        assert db.scalars(select(ClassListEntry.name)).all() == ["Anders Holm"]
    engine.dispose()


def test_an_unusable_list_stops_the_agent_before_it_starts(tmp_path):
    from tests.test_cli import assert_clean_error, classmood

    (tmp_path / "shots").mkdir()
    junk = tmp_path / "class.txt"
    junk.write_bytes("Zoë Núñez\n".encode("latin-1"))
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    result = classmood("agent", "--images", tmp_path / "shots", "--roster", junk, "--db", url)
    assert_clean_error(result, "not UTF-8")
    assert result.returncode == 2 and not (tmp_path / "agent.db").exists()  # nothing half set up
