"""Generated galleries drawn with real apps' colours and layouts, and frames that are no gallery.

These are tests (the renderer is ours), not the measure: that is bench.real_galleries.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

import cv2
import numpy as np
import pytest

from agent.names import script_of
from agent.tiles import find_tiles
from bench.gallery import CAMERA_OFF, Person, fonts_available, render_gallery
from tests.conftest import shared_file
from tests.galleries import people


@pytest.fixture(scope="module")
def labels_csv():
    return shared_file("data/wild_faces/labels_min48px.csv")


def matches(found, truth, atol=6) -> int:
    return sum(any(np.allclose(f.as_tuple()[:2], t.box[:2], atol=atol) for f in found) for t in truth)


def test_zoom_camera_off_tiles_at_34_on_26_are_tiles(labels_csv):
    crowd = people(labels_csv, 12, camera_off={0, 3, 5, 6, 11})
    image, truth = render_gallery(crowd, width=1366, height=768)
    assert CAMERA_OFF == 34 and int(image[5, 5].mean()) != 26  # chrome above, the gallery is 26
    found = find_tiles(image)
    assert len(found) == 12 and matches(found, truth) == 12


@pytest.mark.parametrize("style", ["zoom", "zoom-light", "teams"])
@pytest.mark.parametrize("n", [4, 9, 25])
def test_gap_galleries_of_each_app(labels_csv, style, n):
    image, truth = render_gallery(people(labels_csv, n, camera_off={1}), width=1920, height=1080, style=style)
    found = find_tiles(image)
    assert matches(found, truth) == n
    assert len(found) == n


@pytest.mark.parametrize("n", [7, 25])
def test_meet_grid_without_gaps(labels_csv, n):
    image, truth = render_gallery(people(labels_csv, n, camera_off={2}), width=1920, height=1080, style="meet")
    found = find_tiles(image)
    assert matches(found, truth, atol=0.06 * truth[0].box[2]) >= 0.8 * n
    assert len(found) <= n


@pytest.mark.parametrize(("n", "size"), [(75, (1600, 900)), (75, (1366, 768)), (23, (1920, 1080))])
def test_a_meet_grid_whose_short_last_row_is_centred(labels_csv, n, size):
    """Meet centres a short last row half a cell off the columns above; the cells are found
    where the app drew them (within 3 px), not where the tags pull them."""
    image, truth = render_gallery(people(labels_csv, n, camera_off=set(range(n))), *size, style="meet")
    found = find_tiles(image)
    assert len(found) == n and matches(found, truth, atol=3) == n


@pytest.mark.parametrize(("n", "size"), [(13, (1280, 720)), (22, (1600, 900))])
def test_videos_above_and_a_camera_off_tile_alone_on_the_centred_last_row(labels_csv, n, size):
    """Videos place the columns; the last row's camera-off tile has no edges, only a centred
    avatar, half a cell off those columns."""
    image, truth = render_gallery(people(labels_csv, n, camera_off={n - 1}), *size, style="meet")
    found = find_tiles(image)
    assert len(found) == n and matches(found, truth, atol=0.06 * truth[0].box[2]) == n


@pytest.mark.parametrize(
    ("n", "off_share", "size"),
    [
        (42, 0.8, (1366, 768)),
        (56, 0.3, (1920, 1080)),
        (75, 0.6, (2560, 1440)),
        (49, 0.0, (1600, 900)),
        (20, 0.6, (1280, 1000)),
    ],
    ids=["42-mostly-camera-off", "56-mostly-video", "75-mixed", "49-all-video", "20-tall-window"],
)
def test_meet_grids_of_dozens_of_tiles(labels_csv, n, off_share, size):
    """The real failure that started this: a Meet grid of 75 gave 1 tile."""
    rng = np.random.default_rng(n)
    off = {i for i in range(n) if rng.random() < off_share}
    image, truth = render_gallery(people(labels_csv, n, camera_off=off), width=size[0], height=size[1], style="meet")
    found = find_tiles(image)
    assert matches(found, truth, atol=0.06 * truth[0].box[2]) >= 0.9 * n
    assert len(found) <= n


def test_a_centred_last_row_gets_no_cell_from_the_row_above(labels_csv):
    """Row lines a few pixels above the tiles' true edges take the bottom of the row above into
    the last band; that sliver is no content, or an empty cell beside the centred last row
    becomes a student (76 of 75)."""
    n, rng = 75, np.random.default_rng(2)
    off = {i for i in range(n) if rng.random() < 0.6}
    image, truth = render_gallery(people(labels_csv, n, camera_off=off, offset=2), 1280, 720, style="meet")
    found = find_tiles(image)
    assert len(found) == n and matches(found, truth, atol=0.06 * truth[0].box[2]) == n


@pytest.mark.parametrize("n", [30, 49])
def test_a_full_last_row_starting_with_a_pillarboxed_video_keeps_the_columns_above(labels_csv, n):
    """The last row's own lines are set by its contents; a 4:3 video's near-black bars read as
    stage, so its picture's edge was taken for the tile's and the whole row moved by the bar
    (a row of phantoms). Apps left-align or centre a last row: on the columns or half off."""
    crowd = people(labels_csv, n, camera_off={i for i in range(n) if i % 3 == 1})
    crowd = [replace(p, pillarbox=i >= n - (7 if n == 49 else 6)) for i, p in enumerate(crowd)]
    image, truth = render_gallery(crowd, width=1280, height=720, style="meet")
    found = find_tiles(image)
    assert len(found) == n and matches(found, truth, atol=0.06 * truth[0].box[2]) == n


@pytest.mark.parametrize("n", [6, 20, 49])
def test_meet_2021_rounded_tiles_with_names_on_the_video(labels_csv, n):
    """Meet since 2021: rounded tiles 8 px apart, camera-off tiles a lighter grey with a round
    avatar, no box under the name, the muted sign at the top right."""
    crowd = people(labels_csv, n, camera_off={2, 7, 11, 12, 30})
    image, truth = render_gallery(crowd, width=1600, height=900, style="meet-2021", speaker=3)
    found = find_tiles(image)
    assert matches(found, truth) == n and len(found) == n


@pytest.mark.parametrize("crop", [0, 3, 4, 5, 9])
def test_a_meet_grid_cropped_a_few_pixels_into_its_edge_tiles(labels_csv, crop):
    """A gapless grid cut at the picture's edge: the lattice's phase can land a pixel outside
    the picture (a negative origin crashed the crop of that tile), and the cut edge tiles are
    narrower than the rest but still tiles."""
    crowd = people(labels_csv, 20, camera_off={2, 7})
    image, truth = render_gallery(crowd, width=1600, height=900, style="meet")
    cropped = image[:, crop:]
    truth = [replace(t, box=(max(0, t.box[0] - crop), *t.box[1:])) for t in truth]
    found = find_tiles(cropped)
    assert all(f.x >= 0 and f.y >= 0 and f.x + f.w <= cropped.shape[1] and f.y + f.h <= cropped.shape[0] for f in found)
    assert matches(found, truth, atol=0.06 * truth[0].box[2]) == 20 and len(found) == 20


@pytest.mark.parametrize(("n", "quality"), [(4, 100), (4, 75), (16, 35)])
def test_a_meet_grid_of_camera_off_tiles_also_saved_as_jpeg(labels_csv, n, quality):
    """Only avatars and tags: half a tile is a cell too, but the halves do not look alike.
    Compression rings around the mic icons and names (merging them) and speckles the stage."""
    crowd = people(labels_csv, n, camera_off=set(range(n)))
    image, truth = render_gallery(crowd, width=1366 if n == 4 else 1600, height=728 if n == 4 else 900, style="meet")
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    found = find_tiles(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    assert matches(found, truth, atol=0.06 * truth[0].box[2]) == n and len(found) == n


@pytest.mark.parametrize(("style", "n"), [("zoom", 17), ("teams", 12)])
def test_a_noisy_photo_of_a_gallery(labels_csv, style, n):
    """A camera's noise (and softness, and dimming) breaks the flat colours the search relies on.
    (Gapless Meet grids photographed this noisily are still found only in part.)"""
    image, truth = render_gallery(people(labels_csv, n, camera_off={1, 2, 5}), width=1366, height=768, style=style)
    rng = np.random.default_rng(3)
    noisy = cv2.GaussianBlur(image, (0, 0), 1.0) * 0.85 + 20 + rng.normal(0, 4, image.shape)
    found = find_tiles(np.clip(noisy, 0, 255).astype(np.uint8))
    assert matches(found, truth, atol=0.06 * truth[0].box[2]) == n and len(found) == n


def test_noise_is_measured_apart_from_edges():
    from agent.tiles import NOISY, noise_level

    rng = np.random.default_rng(0)
    drawn = np.full((300, 400), 26, np.uint8)
    drawn[50:150, 50:200], drawn[160:290, 210:390] = 34, 200  # flat fills and sharp edges
    assert noise_level(drawn) < 0.1
    noisy = np.clip(drawn + rng.normal(0, 3, drawn.shape), 0, 255).astype(np.uint8)
    assert noise_level(noisy) > NOISY


def test_a_kept_lattice_is_reused_until_the_gallery_changes(labels_csv):
    from agent.tiles import TileFinder

    crowd = people(labels_csv, 12, camera_off={3})
    image, truth = render_gallery(crowd, width=1600, height=900, style="meet")
    finder = TileFinder(refresh=10)
    first = finder.find(image)
    assert finder.find(image) is first and finder.reused == 1  # the same picture: no search
    reflowed, new_truth = render_gallery(crowd[:7], width=1600, height=900, style="meet")  # five left
    again = finder.find(reflowed)
    assert finder.reused == 0 and again is not first
    assert matches(again, new_truth, atol=0.06 * new_truth[0].box[2]) == 7


def test_pillarboxed_and_profile_photo_tiles(labels_csv):
    from agent.camera import is_camera_off

    crowd = people(labels_csv, 6)
    crowd[1] = Person(crowd[1].name, crowd[1].photo, pillarbox=True)
    crowd[4] = Person(crowd[4].name, None, profile_photo=crowd[4].photo)
    image, truth = render_gallery(crowd, width=1600, height=900)
    found = find_tiles(image)
    assert matches(found, truth) == 6
    off = [is_camera_off(image[t.box[1] : t.box[1] + t.box[3], t.box[0] : t.box[0] + t.box[2]]) for t in truth]
    assert off == [False, False, False, False, True, False]


@pytest.fixture(scope="module")
def reader():
    from agent.names import NameReader

    return NameReader()


@pytest.mark.parametrize("name", ["20200759 양예지", "עדיטל בן משה", "José Núñez", "Zoë Müller", "박지민"])
def test_tags_in_other_scripts_are_read_in_their_script(labels_csv, reader, name):
    if not fonts_available(name):
        pytest.skip("needs Debian's fonts-noto-core and fonts-noto-cjk to draw the tag")
    crowd = people(labels_csv, 4)
    crowd[2] = Person(name, crowd[2].photo, muted=True)
    image, truth = render_gallery(crowd, width=1920, height=1080)
    x, y, w, h = truth[2].box
    read = reader.read(image[y : y + h, x : x + w], True)
    assert read is not None and script_of(read) == script_of(name)
    assert difflib.SequenceMatcher(None, read, name).ratio() >= 0.8, read


def test_short_hebrew_names_after_the_mic_icon_are_read(labels_csv, reader):
    """Two- and three-letter Hebrew names: with the muted mic's icon cut off, the line is
    narrower than it is tall, and Latin models read it as digits ("17") or one letter ("m")."""
    names = ["דן", "טל", "רון", "גיל", "יעל", "עומר", "איתי", "מאיה"]
    if not fonts_available(names[0]):
        pytest.skip("needs Debian's fonts-noto-core to draw the tag")
    crowd = [Person(name, p.photo, muted=True) for name, p in zip(names, people(labels_csv, len(names)))]
    image, truth = render_gallery(crowd, width=1920, height=1080)
    read = [reader.read(image[y : y + h, x : x + w], True) for x, y, w, h in (t.box for t in truth)]
    assert sum(r == t.name for r, t in zip(read, truth)) >= 6, read


def test_latin_tags_are_read_with_their_accents_and_capitals(labels_csv, reader):
    names = ["Zoë Müller", "İlker Öztürk", "Åsa Lindqvist", "Chloé Martin", "Łukasz Kowalski", "Juan Pablo"]
    crowd = [Person(name, p.photo, muted=i % 2 == 0) for i, (name, p) in enumerate(zip(names, people(labels_csv, 6)))]
    image, truth = render_gallery(crowd, width=1920, height=1080)
    read = [reader.read(image[y : y + h, x : x + w], True) for x, y, w, h in (t.box for t in truth)]
    assert sum(r == t.name for r, t in zip(read, truth)) >= 5, read


def test_a_letter_every_tesseract_model_misses_alike_is_kept_from_the_latin_model(labels_csv, reader):
    """At the size of a crowded page every Tesseract script model reads "Łukasz" as "tukasz":
    one engine's error repeated, which must not outvote PP-OCRv6's sure reading."""
    import cv2

    crowd = [Person("Łukasz Kowalski", p.photo, muted=True) for p in people(labels_csv, 25)]
    image, truth = render_gallery(crowd, width=1920, height=1080)
    image = cv2.resize(image, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    read = []
    for tile in truth:
        x, y, w, h = (round(v * 0.6) for v in tile.box)
        read.append(reader.read(image[y : y + h, x : x + w], True))
    assert read.count("Łukasz Kowalski") >= 20, read


def test_a_frame_without_gallery_gives_each_face_its_own_participant(labels_csv, yunet_env, tiny_model_file):
    from agent.identity import IdentityTracker
    from agent.pipeline import CapturePipeline
    from core.emotions import EmotionClassifier
    from core.faces import YuNetDetector

    photos = [p.photo for p in people(labels_csv, 3)]
    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(40, 200, (720, 1280, 3), dtype=np.uint8), (0, 0), 25)  # a room
    for photo, (x, y) in zip(photos, [(80, 200), (520, 150), (960, 260)]):
        frame[y : y + 240, x : x + 240] = cv2.resize(photo, (240, 240))
    pipeline = CapturePipeline(YuNetDetector(), EmotionClassifier(tiny_model_file), None, IdentityTracker())
    first = pipeline.process(frame, None)
    assert [t.state for t in first.tiles] == ["face"] * 3
    assert len({t.key for t in first.tiles}) == 3
    shifted = np.roll(frame, 12, axis=1)  # the camera moved a little
    second = pipeline.process(shifted, None)
    assert sorted(t.key for t in second.tiles) == sorted(t.key for t in first.tiles)


@pytest.mark.parametrize(
    "frame",
    [
        np.full((1080, 1920, 3), 26, np.uint8),
        np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8),
        np.zeros((1, 1920, 3), np.uint8),
        np.full((600, 16384, 3), 26, np.uint8),
    ],
    ids=["blank", "noise", "one-pixel-high", "16k-wide"],
)
def test_bad_frames_are_recorded_on_the_capture_row_and_the_agent_goes_on(frame, tmp_path, yunet_env, tiny_model_file):
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from agent.identity import IdentityTracker
    from agent.pipeline import CapturePipeline
    from agent.runner import Agent
    from core.emotions import EmotionClassifier
    from core.faces import YuNetDetector
    from db import store
    from db.engine import make_engine, upgrade
    from db.models import Capture

    url = upgrade(f"sqlite:///{tmp_path / 'bad.db'}")
    engine = make_engine(url)
    pipeline = CapturePipeline(YuNetDetector(), EmotionClassifier(tiny_model_file), None, IdentityTracker())
    agent = Agent(pipeline, engine, store.start_session(engine, "s", "test", 5, False, {}))
    good, _ = render_gallery([Person(f"P{i}", None) for i in range(4)], width=1280, height=720)
    agent.handle(datetime.now(UTC), frame, {})
    agent.handle(datetime.now(UTC), good, {})
    with Session(engine) as db:
        rows = db.scalars(select(Capture).order_by(Capture.id)).all()
    assert len(rows) == 2
    assert rows[0].error and len(rows[0].error.splitlines()) == 1
    assert rows[1].error is None and rows[1].tiles_found == 4


@pytest.mark.parametrize("degrees", [-2.5, 1.5])
def test_a_photo_of_a_screen_held_askew_is_levelled(labels_csv, degrees, yunet_env, tiny_model_file):
    from agent.identity import IdentityTracker
    from agent.pipeline import CapturePipeline
    from core.emotions import EmotionClassifier
    from core.faces import YuNetDetector

    image, truth = render_gallery(people(labels_csv, 12, camera_off={2, 5}), width=1600, height=900)
    turned = cv2.warpAffine(
        image, cv2.getRotationMatrix2D((800, 450), degrees, 1.0), (1600, 900), borderValue=(60,) * 3
    )
    assert len(find_tiles(turned)) < 12  # askew, the gaps are no longer straight rows and columns
    pipeline = CapturePipeline(YuNetDetector(), EmotionClassifier(tiny_model_file), None, IdentityTracker())
    result = pipeline.process(turned, None)
    assert len(result.tiles) == 12
    assert sum(t.state == "camera_off" for t in result.tiles) == 2


def test_a_truncated_tag_is_the_same_student_and_namesakes_stay_two():
    from agent.identity import IdentityTracker

    tracker = IdentityTracker()
    tile = np.zeros((135, 240, 3), np.uint8)

    def keys(*names):
        tiles = [((i * 250, 0, 240, 135), tile, name) for i, name in enumerate(names)]
        return [identity.key for identity in tracker.assign((1920, 1080), tiles)]

    first = keys("Elizabeth Hernández C...", "Ana Silva", "Ana Silva", "Anastasia Kim")
    second = keys("Elizabeth Hernández ...", "Ana...", "Anastasia Kim", "Ana Silva", "Ana Silva")
    assert second[0] == first[0]  # Zoom cut the same name shorter at another window width
    assert first[1] != first[2]  # two students with one name
    assert second[1] not in first  # "Ana..." is too short to say whose it is
    assert second[2] == first[3] and {second[3], second[4]} == {first[1], first[2]}


def test_a_still_picture_is_told_from_live_video():
    from agent.camera import is_still, still_signature

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
    noisy = np.clip(photo.astype(np.int16) + rng.integers(-2, 3, photo.shape), 0, 255).astype(np.uint8)
    moved = np.roll(photo, 9, axis=1)
    assert is_still(still_signature(photo), still_signature(noisy))  # a codec's noise on a still photo
    assert not is_still(still_signature(photo), still_signature(moved))
    assert not is_still(None, still_signature(photo))
