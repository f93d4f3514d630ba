"""`classmood train-pose`: the head pose net, taught by a 468-point face mesh.

Where a face is turned needs more than YuNet's five points (they carry yaw, not pitch: a
regression on them erred 21 degrees in pitch). MediaPipe's face mesh (Apache-2.0; its model
file ships inside the `mediapipe` 0.10.14 wheel on PyPI) reads pitch well: its own 3-D
points give yaw and pitch within about 6 and 8 degrees on Pointing'04 (bench.headpose). But
it costs about 55 ms for 25 faces on two cores, most of a capture's budget.

So the mesh is the teacher and never runs in the product: it reads the pose of every
FER2013 face (28,709 web photos in many poses, with no pose labels of their own), and a small
CNN learns to read the same angles from the very 48x48 crop the emotion CNN reads (about
6 ms for 25 faces on one thread). Pointing'04 (bench.headpose) is only the test, apart from one
scale per angle (`fit_scale`) that turns the mesh's depth into degrees.

Steps, each resumable by hand:
    fetch_face_mesh    the wheel from the package index -> its .tflite -> ONNX (tf2onnx)
    mesh_angles        pure geometry: yaw and pitch of a mesh
    label_faces        the mesh's angles for a set of 48x48 crops
    train_pose_net     the student net, flips and light jitter as augmentation
    export_pose_net    BN folded -> ONNX with the scales in its metadata (core/assets/head_pose.onnx)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

from core.head_pose import POSE_FORMAT, with_scale

MESH_WHEEL = "mediapipe==0.10.14"
MESH_MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
MESH_INPUT = 192
MESH_PAD = 0.25  # the mesh wants the face in the middle two thirds of its input: pad a FER2013-framed crop
# Mesh points: the outer eye corners (the student's right, then left), forehead top and chin.
RIGHT_EYE, LEFT_EYE, FOREHEAD, CHIN = 33, 263, 10, 152
POSE_WIDTHS = (8, 16, 32, 64)
POSE_DENSE = 64


def fetch_face_mesh(out_dir: Path) -> Path:
    """face_mesh.onnx in out_dir, from the mediapipe wheel on the package index (not installed:
    mediapipe 0.10.14 pins protobuf < 5, which TensorFlow here does not accept)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "face_mesh.onnx"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", MESH_WHEEL, "--no-deps", "--only-binary=:all:", "-d", tmp]
        subprocess.run(pip, check=True, capture_output=True)
        (wheel,) = Path(tmp).glob("mediapipe-*.whl")
        tflite = Path(tmp) / "face_landmark.tflite"
        with zipfile.ZipFile(wheel) as zf:
            tflite.write_bytes(zf.read(MESH_MEMBER))
        raw = Path(tmp) / "face_mesh_fixed.onnx"
        convert = [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(tflite), "--output", str(raw)]
        subprocess.run(convert + ["--opset", "17"], check=True, capture_output=True)
        target.write_bytes(any_batch(raw.read_bytes()))
    return target


def any_batch(onnx_bytes: bytes) -> bytes:
    """The converted mesh takes one face; let it take a batch (input, outputs and reshapes)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    for value in [*model.graph.input, *model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "n"
    constants = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Reshape" and node.input[1] in constants:
            shape = numpy_helper.to_array(constants[node.input[1]]).copy()
            if shape[0] == 1:
                shape[0] = -1
                constants[node.input[1]].CopyFrom(numpy_helper.from_array(shape, node.input[1]))
    return model.SerializeToString()


class FaceMesh:
    """The teacher: 468 points (x, y, depth) of each 48x48 face crop."""

    def __init__(self, path: Path, threads: int = 2):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def points(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 468, 3) points and (n,) face scores (logits; > 0: the mesh sees a face)."""
        batch = np.stack([mesh_input(crop) for crop in crops])
        points, score = self._session.run(None, {self._input: batch})
        return points.reshape(len(crops), 468, 3), score.reshape(len(crops))


def mesh_input(crop: np.ndarray) -> np.ndarray:
    pad = int(round(MESH_PAD * crop.shape[0]))
    framed = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    framed = cv2.resize(framed, (MESH_INPUT, MESH_INPUT), interpolation=cv2.INTER_LINEAR)
    return np.repeat(framed[:, :, None], 3, axis=2).astype(np.float32) / 255.0


def mesh_angles(points: np.ndarray) -> np.ndarray:
    """(n, 2) yaw and pitch in degrees of (n, 468, 3) mesh points, in the product's convention
    (yaw > 0: turned to the student's own right; pitch > 0: looking up).

    The face's own axes: across from eye corner to eye corner, down from forehead to chin;
    the face points along their cross product, and its direction gives the two angles.
    """
    across = points[:, LEFT_EYE] - points[:, RIGHT_EYE]
    across /= np.linalg.norm(across, axis=1, keepdims=True)
    down = points[:, CHIN] - points[:, FOREHEAD]
    down -= across * np.sum(down * across, axis=1, keepdims=True)
    down /= np.linalg.norm(down, axis=1, keepdims=True)
    facing = np.cross(across, down)
    yaw = np.degrees(np.arctan2(facing[:, 0], np.abs(facing[:, 2])))
    pitch = np.degrees(np.arcsin(np.clip(facing[:, 1], -1.0, 1.0)))
    return np.stack([yaw, pitch], axis=1)


def label_faces(mesh: FaceMesh, images: np.ndarray, batch: int = 64, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """The mesh's (yaw, pitch) of each image and whether it saw a face there."""
    angles, seen = [], []
    for start in range(0, len(images), batch):
        points, score = mesh.points(images[start : start + batch])
        angles.append(mesh_angles(points))
        seen.append(score > 0)
        if progress:
            progress(min(batch, len(images) - start))
    return np.concatenate(angles).astype(np.float32), np.concatenate(seen)


def fit_scale(raw: np.ndarray, truth: np.ndarray) -> float:
    """The scale (1-4, steps of 0.01) with the least mean absolute error against `truth`."""
    scales = np.round(np.arange(1.0, 4.0001, 0.01), 2)
    errors = [np.mean(np.abs(with_scale(raw, s) - truth)) for s in scales]
    return float(scales[int(np.argmin(errors))])


def pose_net():
    from core.model import POSE_HEAD, make_model

    return make_model(48, widths=POSE_WIDTHS, dense=POSE_DENSE, dropout=0.2, head=POSE_HEAD)


def jittered(images: np.ndarray, angles: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Half the faces mirrored (yaw changes sign), each shifted, scaled and lit a little."""
    images, angles = images.copy(), angles.copy()
    flip = rng.random(len(images)) < 0.5
    images[flip] = images[flip][:, :, ::-1]
    angles[flip, 0] *= -1
    side = images.shape[1]
    out = np.empty_like(images)
    for i, image in enumerate(images):
        matrix = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), 0, rng.uniform(0.93, 1.07))
        matrix[:, 2] += rng.uniform(-2.5, 2.5, 2)
        warped = cv2.warpAffine(image, matrix, (side, side), borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        out[i] = np.clip(warped * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30), 0, 255).astype(np.uint8)
    return out, angles


def train_pose_net(x_train, y_train, x_val, y_val, epochs: int = 14, seed: int = 0, on_epoch=None):
    """The student, trained on mesh labels; returns (model, history of validation errors)."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = pose_net()
    steps = max(1, len(x_train) // 128)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, epochs * steps)
    model.compile(keras.optimizers.AdamW(schedule, weight_decay=1e-4), loss=keras.losses.Huber(delta=5.0))
    history = []
    for epoch in range(epochs):
        images, angles = jittered(x_train, y_train, rng)
        model.fit(images[..., None], angles, batch_size=128, epochs=1, verbose=0, shuffle=True)
        error = np.abs(model.predict(x_val[..., None], verbose=0, batch_size=512) - y_val).mean(axis=0)
        history.append({"epoch": epoch + 1, "val_yaw_mae": float(error[0]), "val_pitch_mae": float(error[1])})
        if on_epoch:
            on_epoch(history[-1])
    return model, history


def export_pose_net(model, path: Path, yaw_scale: float, pitch_scale: float, notes: dict) -> Path:
    """The net, BN folded, as ONNX with what turns its outputs into degrees in its metadata."""
    import onnx

    from core.model import fold_batchnorm
    from core.onnx_model import onnx_graph

    with tempfile.TemporaryDirectory() as tmp:
        keras_file = Path(tmp) / "pose.keras"
        fold_batchnorm(model).save(keras_file)
        graph = onnx.load_from_string(onnx_graph(keras_file))
    meta = {"format": POSE_FORMAT, "yaw_scale": yaw_scale, "pitch_scale": pitch_scale, **notes}
    for key, value in meta.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(path.name + ".tmp")
    tmp_path.write_bytes(graph.SerializeToString())
    tmp_path.replace(path)
    return path


def read_headpose_set(folder: Path) -> list[dict]:
    """Rows of a head pose set's labels.csv (path, person, yaw, pitch), paths made absolute."""
    import csv

    labels = folder / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"{folder}: no labels.csv (a head pose set: path, person, yaw, pitch)")
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {"path": folder / r["path"], "person": r["person"], "yaw": float(r["yaw"]), "pitch": float(r["pitch"])}
        for r in rows
    ]


def largest_face_crop(image: np.ndarray, detector, size: int = 48) -> np.ndarray | None:
    """The crop of the image's largest face as the agent takes it, or None when none is found."""
    from core.analyze import find_faces
    from core.faces import crop_face

    faces = find_faces(image, detector, min_size=12)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.box[2] * f.box[3])
    return crop_face(image, face.box, size, getattr(detector, "crop_margin", 0.0))


def yaw_band(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Where yaw is scored: level heads (|pitch| <= 15) up to a 60-degree turn."""
    return (np.abs(pitch) <= 15) & (np.abs(yaw) <= 60)


def pitch_band(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Where pitch is scored: heads facing ahead (|yaw| <= 15) up to 60 degrees up or down."""
    return (np.abs(yaw) <= 15) & (np.abs(pitch) <= 60)


def fit_scales(raw: np.ndarray, yaw: np.ndarray, pitch: np.ndarray) -> tuple[float, float]:
    """The yaw and pitch scales for raw (n, 2) net outputs against true angles, each fitted
    where that angle is scored."""
    ok = ~np.isnan(raw[:, 0])
    ys, ps = ok & yaw_band(yaw, pitch), ok & pitch_band(yaw, pitch)
    return fit_scale(raw[ys, 0], yaw[ys]), fit_scale(raw[ps, 1], pitch[ps])


def build_pose_model(data: Path, headpose: Path, out: Path, epochs: int = 14, mesh: Path | None = None) -> dict:
    """The whole recipe: mesh -> FER2013 labels (cached in out) -> net -> scales -> ONNX."""
    from rich.progress import Progress

    from core.faces import YuNetDetector
    from training import fer2013
    from training.config import default_cache_dir

    out.mkdir(parents=True, exist_ok=True)
    labels_file = out / "mesh_labels.npz"
    splits = fer2013.load(data, default_cache_dir())
    x_train, _ = splits.split("Training")
    x_val, _ = splits.split("PublicTest")
    with Progress() as progress:
        if not labels_file.exists():
            teacher = FaceMesh(mesh or fetch_face_mesh(out))
            labelled = {}
            for name, images in (("train", x_train), ("val", x_val)):
                task = progress.add_task(f"face mesh on {name}", total=len(images))
                labelled[name] = label_faces(teacher, images, progress=lambda n, t=task: progress.advance(t, n))
            np.savez_compressed(
                labels_file, y_train=labelled["train"][0], ok_train=labelled["train"][1],
                y_val=labelled["val"][0], ok_val=labelled["val"][1],
            )  # fmt: skip
        saved = np.load(labels_file)
        net_file = out / "pose_net.keras"  # the trained net as Keras has it, before folding and export
        if net_file.exists():  # a finished run: only the scales and the export are done again
            import keras

            model = keras.models.load_model(net_file, compile=False)
            history = json.loads((out / "history.json").read_text())
        else:
            task = progress.add_task("pose net epochs", total=epochs)
            model, history = train_pose_net(
                x_train[saved["ok_train"]], saved["y_train"][saved["ok_train"]],
                x_val[saved["ok_val"]], saved["y_val"][saved["ok_val"]],
                epochs, on_epoch=lambda _row: progress.advance(task),
            )  # fmt: skip
            (out / "history.json").write_text(json.dumps(history, indent=2))
            model.save(net_file)
    rows = read_headpose_set(headpose)
    detector = YuNetDetector()
    crops = [largest_face_crop(cv2.imread(str(r["path"])), detector) for r in rows]
    found = [c is not None for c in crops]
    raw = np.full((len(rows), 2), np.nan)
    raw[found] = model.predict(np.stack([c for c in crops if c is not None])[..., None], verbose=0)
    yaw, pitch = np.array([r["yaw"] for r in rows]), np.array([r["pitch"] for r in rows])
    yaw_scale, pitch_scale = fit_scales(raw, yaw, pitch)
    notes = {"model_version": "1.0", "taught_by": MESH_WHEEL, "scales_fitted_on": headpose.name}
    path = export_pose_net(model, out / "head_pose.onnx", yaw_scale, pitch_scale, notes)
    metrics = {"history": history, "yaw_scale": yaw_scale, "pitch_scale": pitch_scale, "model": str(path)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics
