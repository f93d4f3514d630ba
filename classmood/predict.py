"""The `predict` command's edges: expand inputs, write annotated copies, print results."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
import cv2

from core.analyze import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    FaceEmotion,
    InputError,
    analyze_image,
    annotate,
    iter_video,
    read_image,
)
from core.head_pose import LOOKING_WORDS


def expand_inputs(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders expanded to the images and videos inside them, sorted."""
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
            if not found:
                click.echo(f"Warning: {path}: no images or videos inside", err=True)
            yield from found
        else:
            yield path


def face_record(face: FaceEmotion) -> dict:
    """One face as predict reports it; `uncertain`: the reading is a guess (core.calibration);
    yaw and pitch in degrees (core.head_pose), `looking` "screen", "away" or "unknown"."""
    record = {"box": list(face.box), "detector_score": round(face.detector_score, 3)}
    if face.emotion is not None:
        record |= {
            "emotion": face.emotion.top,
            "score": round(face.emotion.score, 4),
            "uncertain": face.emotion.uncertain,
            "probabilities": face.emotion.as_dict(),
        }
    pose = face.pose
    record |= {
        "yaw": round(pose.yaw, 1) if pose else None,
        "pitch": round(pose.pitch, 1) if pose else None,
        "looking": pose.looking() if pose else "unknown",
    }
    return record


def predict_paths(paths, detector, classifier, out: Path | None, as_json: bool, every: float, poser=None) -> int:
    """Analyse every input; report each bad one on one line and go on. Returns the failures.
    `classifier` None: no expression is read (--signals attention)."""
    failures = 0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for path in expand_inputs(paths):
        try:
            if path.suffix.lower() in VIDEO_SUFFIXES:
                records = _predict_video(path, detector, classifier, out, every, poser)
            else:
                records = [_predict_image(path, detector, classifier, out, poser)]
        except InputError as exc:
            failures += 1
            click.echo(f"Error: {exc}", err=True)
            continue
        for record in records:
            if not record["faces"]:
                where = f" at {record['time']:.1f} s" if "time" in record else ""
                click.echo(f"Warning: {path}{where}: no face found", err=True)
            if as_json:
                click.echo(json.dumps(record))
            else:
                _print_record(record)
    return failures


def _analyze(image, detector, classifier, poser) -> list[FaceEmotion]:
    return analyze_image(image, detector, classifier, poser, emotions=classifier is not None)


def _predict_image(path: Path, detector, classifier, out: Path | None, poser) -> dict:
    image = read_image(path)
    faces = _analyze(image, detector, classifier, poser)
    record = {"input": str(path), "faces": [face_record(f) for f in faces]}
    if out is not None:
        target = out / f"{path.stem}.annotated.png"
        cv2.imwrite(str(target), annotate(image, faces))
        record["annotated"] = str(target)
    return record


def _predict_video(path: Path, detector, classifier, out: Path | None, every: float, poser) -> list[dict]:
    records, writer = [], None
    target = out / f"{path.stem}.annotated.mp4" if out is not None else None
    try:
        for seconds, frame in iter_video(path, every):
            faces = _analyze(frame, detector, classifier, poser)
            records.append({"input": str(path), "time": round(seconds, 3), "faces": [face_record(f) for f in faces]})
            if target is not None:
                if writer is None:
                    h, w = frame.shape[:2]
                    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), max(1.0, 1 / every), (w, h))
                writer.write(annotate(frame, faces))
    finally:
        if writer is not None:
            writer.release()
    if target is not None and records:
        records[0]["annotated"] = str(target)
    return records


def _print_record(record: dict) -> None:
    where = record["input"] + (f" @ {record['time']:.1f}s" if "time" in record else "")
    for i, face in enumerate(record["faces"], 1):
        x, y, w, h = face["box"]
        said = []
        if "emotion" in face:
            second = sorted(face["probabilities"].items(), key=lambda kv: -kv[1])[1]
            guess = "? (uncertain)" if face["uncertain"] else ""
            said.append(f"{face['emotion']}{guess} {face['score']:.2f} (next: {second[0]} {second[1]:.2f})")
        if face["yaw"] is None:
            said.append("pose unknown")
        else:
            said.append(f"{LOOKING_WORDS[face['looking']]} (yaw {face['yaw']:+.0f}, pitch {face['pitch']:+.0f})")
        click.echo(f"{where}  face {i} at ({x},{y}) {w}x{h}: " + "; ".join(said))


def run_webcam(camera: int, detector, classifier, poser=None) -> None:
    """A live window with boxes and labels; q or Esc quits."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError("--webcam needs a display (no DISPLAY or WAYLAND_DISPLAY is set)")
    capture = cv2.VideoCapture(camera)
    if not capture.isOpened():
        raise InputError(f"camera {camera} cannot be opened")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                raise InputError(f"camera {camera} stopped sending frames")
            cv2.imshow("ClassMood (q to quit)", annotate(frame, _analyze(frame, detector, classifier, poser)))
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                break
    finally:
        capture.release()
        cv2.destroyAllWindows()
