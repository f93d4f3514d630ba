"""The CLI as a user runs it: a real subprocess, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import ROOT


def classmood(*args, env=None, timeout=300):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "classmood", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )


def assert_clean_error(result, fragment):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert error_lines, result.stderr
    assert fragment in error_lines[0], result.stderr


def test_evaluate_missing_data_file(tmp_path):
    assert_clean_error(classmood("evaluate", "--data", tmp_path / "missing.csv"), "no such file")


def test_train_ferplus_weight_out_of_range(fer_csv, tmp_path):
    result = classmood("train", "--data", fer_csv, "--out", tmp_path, "--ferplus", fer_csv, "--ferplus-weight", 0.6)
    assert result.returncode == 2 and "original label keeps the majority" in result.stderr


def test_train_missing_ferplus_file(fer_csv, tmp_path):
    args = ("--limit", 50, "--widths", "4,4,4,4", "--dense", 4, "--ferplus", tmp_path / "none.csv")
    assert_clean_error(classmood("train", "--data", fer_csv, "--out", tmp_path, *args), "no such file")


def test_eda_corrupt_csv_row(tmp_path):
    bad = tmp_path / "bad.csv"
    pixels = " ".join(["7"] * 2304)
    bad.write_text(f"emotion,pixels,Usage\n3,{pixels},Training\n2,{pixels[:-4]},Training\n")
    assert_clean_error(classmood("eda", "--data", bad, "--out", tmp_path / "eda"), "bad.csv:3")


def test_predict_missing_model(tmp_path):
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((10, 10, 3), np.uint8))
    assert_clean_error(classmood("predict", image, "--model", tmp_path / "none.keras"), "model file not found")


def test_predict_reads_with_the_meeting_expert_unless_told_not_to(tmp_path, yunet_file, wild_faces):
    """The shipped model pairs with its meeting expert by default (`--meeting-expert` names it
    again: the same reading); --no-meeting-expert reads a dim photo otherwise, with the model
    alone; a missing expert file and the two options together are one clear line each."""
    photo = cv2.imread(str(wild_faces[0][0]))
    dim = np.clip(photo.astype(np.float32) * 0.3 + np.random.default_rng(0).normal(0, 6, photo.shape), 0, 255)
    cv2.imwrite(str(tmp_path / "dim.png"), dim.astype(np.uint8))
    env = {"CLASSMOOD_YUNET": str(yunet_file)}
    paired, named, alone = (
        classmood("predict", tmp_path / "dim.png", "--json", *extra, env=env)
        for extra in ((), ("--meeting-expert",), ("--no-meeting-expert",))
    )
    assert paired.returncode == named.returncode == alone.returncode == 0, paired.stderr
    faces = [json.loads(result.stdout)["faces"] for result in (paired, named, alone)]
    assert faces[0] and len(faces[0]) == len(faces[2])
    assert faces[0] == faces[1]
    assert faces[0][0]["probabilities"] != faces[2][0]["probabilities"]
    missing = classmood("predict", tmp_path / "dim.png", "--meeting-expert", tmp_path / "none.keras", env=env)
    assert_clean_error(missing, "model file not found")
    both = classmood("predict", tmp_path / "dim.png", "--meeting-expert", "--no-meeting-expert", env=env)
    assert both.returncode != 0 and "contradict" in both.stderr


def test_predict_non_image_file(tmp_path, tiny_model_file, yunet_file):
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    result = classmood("predict", text, "--model", tiny_model_file, env={"CLASSMOOD_YUNET": str(yunet_file)})
    assert_clean_error(result, "not a readable image")


def test_predict_unreadable_video(tmp_path, tiny_model_file, yunet_file):
    video = tmp_path / "lecture.mp4"
    video.write_bytes(os.urandom(4096))
    result = classmood("predict", video, "--model", tiny_model_file, env={"CLASSMOOD_YUNET": str(yunet_file)})
    assert_clean_error(result, "not a readable video")


def test_predict_image_without_face(tmp_path, tiny_model_file, yunet_file):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 200, np.uint8))
    result = classmood("predict", blank, "--json", "--model", tiny_model_file, env={"CLASSMOOD_YUNET": str(yunet_file)})
    assert result.returncode == 0, result.stderr
    assert "no face found" in result.stderr
    assert json.loads(result.stdout)["faces"] == []


def test_predict_bad_input_does_not_stop_the_good_ones(tmp_path, tiny_model_file, yunet_file, wild_faces):
    good = wild_faces[0][0]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8garbage")
    out = tmp_path / "annotated"
    result = classmood(
        "predict",
        tmp_path / "broken.jpg",
        good,
        "--json",
        "--out",
        out,
        "--model",
        tiny_model_file,
        env={"CLASSMOOD_YUNET": str(yunet_file)},
    )
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 1 and len(records[0]["faces"]) >= 1
    face = records[0]["faces"][0]
    assert set(face["probabilities"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert cv2.imread(records[0]["annotated"]) is not None


@pytest.mark.slow
def test_predict_video_samples_frames(tmp_path, tiny_model_file, yunet_file, wild_faces):
    video = tmp_path / "clip.mp4"
    frame = cv2.resize(cv2.imread(str(wild_faces[1][0])), (320, 320))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 320))
    for _ in range(30):
        writer.write(frame)
    writer.release()
    result = classmood(
        "predict",
        video,
        "--every",
        "1",
        "--json",
        "--out",
        tmp_path / "o",
        "--model",
        tiny_model_file,
        env={"CLASSMOOD_YUNET": str(yunet_file)},
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["time"] for r in records] == [0.0, 1.0, 2.0]
    assert (tmp_path / "o" / "clip.annotated.mp4").stat().st_size > 0


def test_webcam_without_display(tiny_model_file, yunet_file):
    env = {"CLASSMOOD_YUNET": str(yunet_file), "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    assert_clean_error(classmood("predict", "--webcam", "--model", tiny_model_file, env=env), "needs a display")


@pytest.mark.slow
def test_eda_report(fer_csv, tmp_path):
    result = classmood("eda", "--data", fer_csv, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["per_usage"] == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
    assert summary["class_counts"]["Training"]["disgust"] == 436
    assert len(summary["blank_rows"]) == 12
    assert summary["duplicates"]["extra_copies"] == 1853
    for name in ("class_counts.png", "samples.png", "duplicates.png", "summary.md"):
        assert (tmp_path / name).stat().st_size > 0


def test_agent_name_langs_unknown_script(tmp_path):
    assert_clean_error(classmood("agent", "--images", tmp_path, "--name-langs", "Latin,Klingon"), "Hangul, Hebrew")


def test_name_langs_keep_latin_first():
    from agent.cli import parse_scripts

    assert parse_scripts("hebrew, Hangul,hebrew") == ("Latin", "Hebrew", "Hangul")
    assert parse_scripts(None) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("notaurl", "not a database URL"), ("foo://x/y", "no database driver"), ("sqlite:////proc/no/x.db", "folder")],
)
def test_a_bad_database_url_is_one_line(url, fragment):
    assert_clean_error(classmood("db", "upgrade", "--db", url), fragment)


TENSORFLOW_NOISE = ("absl::InitializeLog", "cudart_stub", "oneDNN custom operations", "setPreferableTarget")


def test_tensorflow_start_up_lines_only_with_verbose(tmp_path, fer_csv):
    """predict (like the agent) serves the CNN through onnxruntime, and MTCNN (the offline
    face detector) is imported quietly; train needs TensorFlow, and its start-up lines show
    only with -v."""
    image = tmp_path / "grey.png"
    cv2.imwrite(str(image), np.full((96, 96, 3), 120, np.uint8))
    quiet = classmood("predict", image, "--json")
    assert quiet.returncode == 0, quiet.stderr
    assert not any(noise in quiet.stderr for noise in TENSORFLOW_NOISE), quiet.stderr
    tiny = ("--data", fer_csv, "--limit", "64", "--epochs", "1", "--widths", "4,8,8,8", "--dense", "8")
    trained = classmood("train", *tiny, "--out", tmp_path / "quiet")
    assert trained.returncode == 0, trained.stderr
    assert not any(noise in trained.stderr for noise in TENSORFLOW_NOISE), trained.stderr
    verbose = classmood("-v", "train", *tiny, "--out", tmp_path / "verbose")
    assert any(noise in verbose.stderr for noise in TENSORFLOW_NOISE), verbose.stderr


def oversized_png(path, side: int = 40000) -> None:
    """A PNG whose header claims more pixels than OpenCV will decode (its data is a stub)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


def test_an_image_too_large_to_decode_is_one_line_and_the_others_are_read(tmp_path, tiny_model_file, yunet_file):
    huge, small = tmp_path / "a_huge.png", tmp_path / "b_small.png"
    oversized_png(huge)
    cv2.imwrite(str(small), np.full((240, 320, 3), 200, np.uint8))
    env = {"CLASSMOOD_YUNET": str(yunet_file)}
    result = classmood("predict", huge, small, "--json", "--model", tiny_model_file, env=env)
    assert "Traceback" not in result.stderr and "cannot be decoded" in result.stderr, result.stderr
    assert "b_small.png" in result.stdout


def test_predict_marks_a_guess_as_one(tmp_path, tiny_model_file, yunet_file, wild_faces):
    """A reading under the model's guess line is printed "sad? (uncertain)", and says so in JSON."""
    import shutil
    from dataclasses import replace

    from core.model import read_contract, write_contract

    unsure = shutil.copy(tiny_model_file, tmp_path / "unsure.keras")
    write_contract(unsure, replace(read_contract(unsure), temperature=1.0, uncertain_below=0.99))
    env = {"CLASSMOOD_YUNET": str(yunet_file)}
    text = classmood("predict", wild_faces[0][0], "--model", unsure, env=env)
    assert text.returncode == 0 and "? (uncertain)" in text.stdout, text.stdout + text.stderr
    records = classmood("predict", wild_faces[0][0], "--model", unsure, "--json", env=env)
    assert all(face["uncertain"] is True for face in json.loads(records.stdout)["faces"])


def test_the_top_level_help_says_to_start_with_run_and_run_names_its_session():
    assert "Start with `classmood run`" in classmood("--help").stdout
    helped = classmood("run", "--help").stdout
    assert "--session" in helped and "Dashboard's port" in helped and "Model file" in helped
