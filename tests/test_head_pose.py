"""Head pose and looking at the screen: the shipped model on real photographs, the agent's
hysteresis and per-student baseline, the flag rule, bad input."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from agent.attention import AWAY_AFTER, BASELINE_LIMIT, AttentionTracker, usual_pose
from core.flags import FlagRules, MinuteSeries, student_flags
from core.head_pose import AWAY, SCREEN, HeadPose, HeadPoseReader, PoseModelError, with_scale
from tests.conftest import shared_file
from tests.test_cli import assert_clean_error, classmood

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def poser() -> HeadPoseReader:
    return HeadPoseReader()


@pytest.fixture(scope="module")
def pointing() -> dict[tuple[int, int], list]:
    """Pointing'04 images of the development set by (yaw, pitch) label: one of each person."""
    labels = shared_file("data/headpose/pointing04/labels.csv")
    by_pose: dict[tuple[int, int], dict] = {}
    with open(labels, newline="") as f:
        for row in csv.DictReader(f):
            people = by_pose.setdefault((int(row["yaw"]), int(row["pitch"])), {})
            people.setdefault(row["person"], labels.parent / row["path"])
    return {pose: [people[p] for p in sorted(people)] for pose, people in by_pose.items()}


def predicted(paths, yunet_file, *extra) -> list[dict]:
    result = classmood("predict", "--json", *paths, *extra, env={"CLASSMOOD_YUNET": str(yunet_file)})
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_predict_json_gives_pose_with_the_sign_convention_on_real_photos(pointing, yunet_file):
    """Turned 60 degrees to their own right, to their left, looking up and down, and ahead: a photo of
    each of the four people, through `classmood predict --json`."""
    poses = [(0, 0), (60, 0), (-60, 0), (0, 60), (0, -60)]
    paths = [path for pose in poses for path in pointing[pose]]
    records = predicted(paths, yunet_file)
    faces = [max(r["faces"], key=lambda f: f["box"][2] * f["box"][3]) for r in records]
    for face in faces:
        assert {"yaw", "pitch", "looking", "emotion", "probabilities"} <= set(face)
    ahead, right, left, up, down = (faces[i : i + 4] for i in range(0, 20, 4))
    assert all(abs(f["yaw"]) < 20 and abs(f["pitch"]) < 20 and f["looking"] == SCREEN for f in ahead)
    assert all(f["yaw"] > 20 for f in right) and all(f["yaw"] < -20 for f in left)
    assert all(f["pitch"] > 20 for f in up) and all(f["pitch"] < -20 for f in down)
    missed = [f for f in right + left + up + down if f["looking"] != AWAY]
    assert len(missed) <= 1, missed  # bench.headpose: 96 % of such faces caught on these people


def test_attention_only_predict_reads_no_expression(pointing, yunet_file, tmp_path):
    """--signals attention: pose only; the emotion model is not even opened."""
    records = predicted(
        [pointing[(0, 0)][0]], yunet_file, "--signals", "attention", "--model", tmp_path / "no-such-model.keras"
    )
    (face,) = records[0]["faces"]
    assert "emotion" not in face and "probabilities" not in face
    assert face["looking"] == SCREEN and face["yaw"] is not None


def test_hard_faces_get_a_pose_or_an_explicit_unknown(poser, pointing, yunet_file):
    """A face cut by the image's edge, one eye hidden, a tiny face, a flat crop: never a crash."""
    from core.analyze import analyze_image
    from core.faces import YuNetDetector

    photo = cv2.imread(str(pointing[(0, 0)][0]))
    detector = YuNetDetector(yunet_file)
    (face,) = [f for f in analyze_image(photo, detector, poser=poser, emotions=False)][:1]
    x, y, w, h = face.box
    cut = photo[:, x + w // 2 :]  # the left half of the face is outside the picture
    hidden = photo.copy()
    hidden[y + h // 5 : y + h // 2, x + w // 2 : x + w] = 0  # one eye behind a hand
    tiny = cv2.resize(photo, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    for image in (cut, hidden, tiny):
        for found in analyze_image(image, detector, poser=poser, emotions=False):
            assert found.pose is None or (-90 <= found.pose.yaw <= 90 and -90 <= found.pose.pitch <= 90)
    assert poser.read(np.zeros((2, 48, 48), np.uint8)) == [None, None]
    with pytest.raises(ValueError, match="crops must be"):
        poser.read(np.zeros((1, 64, 64), np.uint8))


def test_a_missing_or_foreign_pose_model_is_one_clear_line(tmp_path, yunet_file, pointing):
    with pytest.raises(PoseModelError, match="not found"):
        HeadPoseReader(tmp_path / "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(PoseModelError, match="not a usable head pose model"):
        HeadPoseReader(junk)
    env = {"CLASSMOOD_YUNET": str(yunet_file), "CLASSMOOD_POSE_MODEL": str(junk)}
    result = classmood("predict", "--json", pointing[(0, 0)][0], env=env)
    assert result.returncode == 0 and "head pose and looking are not read" in result.stderr
    assert json.loads(result.stdout)["faces"][0]["looking"] == "unknown"
    assert_clean_error(classmood("predict", "--signals", "attention", pointing[(0, 0)][0], env=env), "head pose")


def test_scale_turns_mesh_angles_into_degrees():
    assert with_scale(np.array([0.0]), 2.0)[0] == 0.0
    assert with_scale(np.array([45.0]), 1.0)[0] == pytest.approx(45.0)
    assert with_scale(np.array([30.0]), 2.0)[0] == pytest.approx(np.degrees(np.arctan(2 * np.tan(np.radians(30)))))
    assert with_scale(np.array([-30.0]), 2.0)[0] == pytest.approx(-with_scale(np.array([30.0]), 2.0)[0])


def run(tracker: AttentionTracker, poses, key="ana", step=timedelta(seconds=5)) -> list[str | None]:
    return [tracker.update(key, T0 + i * step, pose) for i, pose in enumerate(poses)]


def test_a_glance_at_notes_is_not_away_but_a_sustained_turn_is():
    ahead, down = HeadPose(2, -3), HeadPose(0, -55)
    glance = run(AttentionTracker(), [ahead] * 6 + [down, down] + [ahead] * 3)
    assert set(glance) == {SCREEN}
    turned = run(AttentionTracker(), [ahead] * 6 + [down] * 6)
    needed = int(AWAY_AFTER / timedelta(seconds=5))  # readings after the first away one
    assert turned[: 6 + needed] == [SCREEN] * (6 + needed)
    assert turned[6 + needed :] == [AWAY] * (6 - needed)
    back = run(AttentionTracker(), [ahead] * 6 + [down] * 6 + [ahead])
    assert back[-1] == SCREEN


def test_a_webcam_beside_the_screen_is_that_students_screen():
    """Yaw 35 all along (camera to the side): at the screen once their baseline is known; a
    turn from there is away. Someone turned 70 degrees all along is not made 'at the screen'."""
    beside = run(AttentionTracker(), [HeadPose(35, 0)] * 12)
    assert beside[-1] == SCREEN
    tracker = AttentionTracker()
    run(tracker, [HeadPose(35, 0)] * 12)
    turned = [tracker.update("ana", T0 + timedelta(seconds=60 + 5 * i), HeadPose(-20, 0)) for i in range(6)]
    assert turned[-1] == AWAY
    always_away = run(AttentionTracker(), [HeadPose(70, 0)] * 12)
    assert always_away[-1] == AWAY
    assert usual_pose([HeadPose(70, 50)] * 10) == HeadPose(BASELINE_LIMIT.yaw, BASELINE_LIMIT.pitch)


def test_no_pose_neither_continues_nor_ends_a_run():
    tracker = AttentionTracker()
    poses = [HeadPose(0, 0)] * 6 + [HeadPose(60, 0), None, None, HeadPose(60, 0), HeadPose(60, 0)]
    states = run(tracker, poses, step=timedelta(seconds=10))
    assert states[7:9] == [None, None]
    assert states[-1] == AWAY  # the away run began before the gap and went on after it


def minutes(n: int) -> list[datetime]:
    return [T0 + timedelta(minutes=i) for i in range(n)]


def series(away) -> MinuteSeries:
    n = len(away)
    nan = np.full(n, np.nan)
    return MinuteSeries(minutes(n), np.ones(n), nan, nan, away=np.array(away, float))


def test_looking_away_for_n_minutes_is_flagged_with_its_reason():
    rules = FlagRules(away_minutes=3)
    flags = student_flags(series([0, 0, 0.8, 1.0, 0.6, 0, 0]), rules, participant_id=7)
    (flag,) = [f for f in flags if f.kind == "away"]
    assert flag.since == T0 + timedelta(minutes=2) and flag.until == T0 + timedelta(minutes=5)
    assert "looking away" in flag.reason and "3 min" in flag.reason
    assert not [f for f in student_flags(series([0, 0.8, 1.0, 0, 0.9, 0.7]), rules) if f.kind == "away"]


def test_camera_off_minutes_neither_raise_nor_extend_an_away_flag():
    rules = FlagRules(away_minutes=3)
    gap = [1.0, 1.0, np.nan, np.nan, 1.0]
    assert not [f for f in student_flags(series(gap), rules) if f.kind == "away"]
    assert not [f for f in student_flags(series([np.nan] * 8), rules) if f.kind == "away"]


def rotated_face(yaw: float, pitch: float) -> np.ndarray:
    """Mesh points (image axes: x right, y down, z away from the camera) of a head turned by
    `yaw` (to its own right) and `pitch` (up): only the four points mesh_angles reads are set."""
    from training.head_pose import CHIN, FOREHEAD, LEFT_EYE, RIGHT_EYE

    points = np.zeros((468, 3))
    # the student's right eye is on the image's left
    points[[RIGHT_EYE, LEFT_EYE, FOREHEAD, CHIN]] = [[-1, 0, 0], [1, 0, 0], [0, -1.2, 0], [0, 1.3, 0]]
    a, b = np.radians(yaw), np.radians(pitch)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])  # nose to image left
    nod = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])  # nose up (y down)
    return points @ (turn @ nod).T


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (30, 0), (-45, 0), (0, 25), (0, -40), (20, -15)])
def test_mesh_angles_follow_the_product_convention(yaw, pitch):
    from training.head_pose import mesh_angles

    got = mesh_angles(rotated_face(yaw, pitch)[None])[0]
    assert got[0] == pytest.approx(yaw, abs=1) and got[1] == pytest.approx(pitch, abs=1)


def test_the_exported_pose_net_computes_what_keras_does(tmp_path):
    """train-pose's export (BN folded, ONNX, scales in the metadata) read back by the product."""
    import keras

    from core.model import POSE_HEAD, make_model
    from training.head_pose import export_pose_net

    keras.utils.set_random_seed(1)
    model = make_model(48, widths=(4, 4, 8, 8), dense=8, head=POSE_HEAD)
    model.get_layer("s0_bn0").set_weights([np.full(4, 1.5), np.full(4, 0.1), np.full(4, 0.2), np.full(4, 2.0)])
    path = export_pose_net(model, tmp_path / "pose.onnx", 1.4, 2.4, {"model_version": "test"})
    reader = HeadPoseReader(path)
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48)).astype(np.uint8)
    expected = model.predict(crops[..., None].astype(np.float32), verbose=0)
    assert np.allclose(reader.raw(crops), expected, atol=1e-4)
    assert (reader.yaw_scale, reader.pitch_scale, reader.version) == (1.4, 2.4, "test")
