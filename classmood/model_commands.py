"""`classmood eda | train | calibrate | quantize | evaluate | predict`: the model, its data and its use on images."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from classmood.options import (
    data_option,
    head_pose_reader,
    meeting_expert_file,
    meeting_expert_option,
    model_file_option,
    signals_option,
)


@click.command()
@data_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/eda"), show_default=True)
def eda(data: Path, out: Path) -> None:
    """Class counts, sample faces, blank and duplicate images of a FER2013 CSV."""
    from training import fer2013
    from training.config import default_cache_dir
    from training.eda import run_eda

    summary = run_eda(fer2013.load(data, default_cache_dir()), out)
    d = summary["duplicates"]
    click.echo(
        f"{summary['rows']:,} rows; {len(summary['blank_rows'])} blank; {d['extra_copies']:,} duplicate copies"
        f" ({d['groups_with_conflicting_labels']} groups with conflicting labels). Report: {out / 'summary.md'}"
    )


@click.command()
@data_option
@click.option(
    "--epochs", default=60, show_default=True, help="Upper bound; early stopping on PublicTest may end sooner."
)
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint after an interruption.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/train"), show_default=True)
@click.option("--batch-size", default=64, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--limit", type=int, default=None, help="Use only the first N rows of each split (smoke runs).")
@click.option(
    "--augment",
    type=click.Choice(["standard", "light", "meeting", "meeting-expert", "meeting-expert-codec", "codec"]),
    default="standard",
    show_default=True,
    help=(
        "Augmentation: 'light' for a final fine-tune with --resume; 'meeting' adds small, coded, dim, masked "
        "faces; 'codec' JPEG-coded ones only."
    ),
)
@click.option(
    "--schedule",
    type=click.Choice(["plateau", "cosine"]),
    default="plateau",
    show_default=True,
    help="Halve the learning rate on a PublicTest plateau, or anneal it along a cosine to --epochs.",
)
@click.option("--learning-rate", default=1e-3, show_default=True, help="Start (or cosine restart) learning rate.")
@click.option("--widths", default="16,48,128,256", show_default=True, help="Channels per stage.")
@click.option("--dense", default=256, show_default=True)
@click.option("--model-version", default="dev", show_default=True, help="Version written into the model's contract.")
@click.option(
    "--ferplus",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="FER+ vote file (fer2013new.csv): blend its crowd votes into the Training targets.",
)
@click.option("--ferplus-weight", default=0.3, show_default=True, help="Share of the target taken by the FER+ votes.")
@click.option(
    "--average-last",
    default=0,
    show_default=True,
    help="Snapshot the last N epochs and ship their weight average if it beats the best epoch on PublicTest.",
)
@click.option(
    "--init-from",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Start from this model file's weights (a fine-tune) instead of at random.",
)
@click.option(
    "--restore-batchnorm",
    is_flag=True,
    help="With --init-from: rebuild the file's folded BatchNorm (and grow it to --widths/--dense) before training.",
)
@click.option(
    "--distill-from",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A teacher model: its probabilities on each clean Training image join that image's target.",
)
@click.option("--distill-weight", default=0.5, show_default=True, help="Share of the target taken by the teacher.")
@click.option(
    "--recipe",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Run a recipe's phases in turn (training/recipes/*.toml), resuming where a run stopped; "
    "its settings replace the options above but --data, --out, --batch-size, --seed and --limit.",
)
def train(
    data,
    epochs,
    resume,
    out,
    batch_size,
    seed,
    limit,
    augment,
    schedule,
    learning_rate,
    widths,
    dense,
    model_version,
    ferplus,
    ferplus_weight,
    average_last,
    init_from,
    restore_batchnorm,
    distill_from,
    distill_weight,
    recipe,
) -> None:
    """Train the emotion CNN on Training, steered by PublicTest (never PrivateTest)."""
    if not 0 <= ferplus_weight < 0.5:
        raise click.BadParameter(
            "must be in [0, 0.5): the original label keeps the majority",
            param_hint="--ferplus-weight",
        )
    from training.config import TrainConfig
    from training.train import train as run_training

    config = TrainConfig(
        data=data,
        out=out,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        limit_per_split=limit,
        augment=augment,
        schedule=schedule,
        learning_rate=learning_rate,
        widths=tuple(int(w) for w in widths.split(",")),
        dense=dense,
        model_version=model_version,
        ferplus=ferplus,
        ferplus_weight=ferplus_weight,
        average_last=average_last,
        init_from=init_from,
        restore_batchnorm=restore_batchnorm,
        distill_from=distill_from,
        distill_weight=distill_weight,
    )
    progress = sys.stderr.isatty() or bool(os.environ.get("CLASSMOOD_PROGRESS"))
    if recipe is not None:
        from training.recipe import RecipeError, run_recipe

        try:
            metrics = run_recipe(recipe, config, progress=progress)
        except RecipeError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        metrics = run_training(config, resume=resume, progress=progress)
    click.echo(
        f"best PublicTest accuracy {metrics['public_test_accuracy']:.4f} at epoch {metrics['best_epoch']};"
        f" model: {metrics['model']}"
    )


@click.command("train-pose")
@data_option
@click.option(
    "--headpose",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    required=True,
    help="A head pose set (labels.csv: path, person, yaw, pitch) that turns the mesh's angles into degrees.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/head_pose"), show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=14, show_default=True)
@click.option(
    "--mesh",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="face_mesh.onnx already converted (default: fetched from the mediapipe wheel; needs tf2onnx).",
)
def train_pose(data, headpose, out, epochs, mesh) -> None:
    """Train the head pose net on FER2013 faces labelled by a face mesh (training/head_pose.py)."""
    from training.head_pose import build_pose_model

    metrics = build_pose_model(data, headpose, out, epochs, mesh)
    last = metrics["history"][-1]
    click.echo(
        f"PublicTest agreement with the mesh: yaw {last['val_yaw_mae']:.1f}, pitch {last['val_pitch_mae']:.1f} degrees;"
        f" scales {metrics['yaw_scale']:.2f} / {metrics['pitch_scale']:.2f}; model: {metrics['model']}"
    )


@click.command("train-names")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/tag_lines"), show_default=True)
@click.option("--lines", type=click.IntRange(min=64), default=60_000, show_default=True, help="Tag lines to draw.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the drawn lines (a new phase: new seed).")
@click.option("--learning-rate", type=float, default=1e-3, show_default=True, help="Start of the cosine schedule.")
@click.option(
    "--init-from",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Go on from this run's tag_lines.keras (a further phase on newly drawn lines).",
)
def train_names(out, lines, epochs, seed, learning_rate, init_from) -> None:
    """Train the tag line reader (Hangul names) on tags it draws (training/tag_lines.py)."""
    from training.tag_lines import FontsMissing, train

    try:
        metrics = train(
            out, lines=lines, epochs=epochs, seed=seed, progress=True, init_from=init_from, learning_rate=learning_rate
        )
    except FontsMissing as exc:
        raise click.ClickException(str(exc)) from None
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    click.echo(
        f"drawn lines read exactly: {metrics['seen_font']:.1%} (trained fonts), {metrics['unseen_font']:.1%}"
        f" (a font it never saw); model: {out / 'tag_lines.onnx'}"
    )


@click.command()
@data_option
@model_file_option("Model file to calibrate; its contract is rewritten in place.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the reliability PNG + JSON here.")
@click.option("--dry-run", is_flag=True, help="Measure only; leave the model file as it is.")
@click.option(
    "--view",
    type=click.Choice(["clean", "meeting"]),
    default="clean",
    show_default=True,
    help="'meeting': fit on the faces as a meeting expert sees them (training.degrade's conditions, seeded).",
)
@click.option(
    "--flip-average/--no-flip-average",
    default=None,
    help="Read each face and its mirror, averaged, and calibrate that reading (default: as the file says).",
)
@click.option(
    "--votes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="FER+ votes that judge the lecture guess line (default: fer2013new.csv beside --data, else FER2013's labels).",
)
def calibrate(data, model, out, dry_run, view, flip_average, votes) -> None:
    """Fit the model's temperature and guess line on PublicTest; ECE on PrivateTest."""
    from training import ferplus
    from training.calibrate import calibrate as run_calibration

    votes = votes or ferplus.beside(data)
    r = run_calibration(data, model, out, write=not dry_run, view=view, flip_average=flip_average, votes=votes)
    ece, guesses = r["private_test_ece"], r["private_test_guesses"]
    if r["flip_average"]:
        click.echo(
            f"mirror read for faces under {r['mirror_below']:.1f} (the network's own top probability):"
            f" {r['public_test_mirrored']:.0%} of PublicTest"
        )
    click.echo(
        f"temperature {r['temperature']:.3f}, guess below {r['uncertain_below']:.2f}"
        f" (lecture {r['lecture_uncertain_below']:.2f}, judged by {r['lecture_line_judged_by']});"
        f" PrivateTest ECE {ece['raw']:.2%} -> {ece['calibrated']:.2%};"
        f" guesses {guesses['share']:.1%} of faces" + ("" if dry_run else f"; written into {model}")
    )


@click.command()
@data_option
@model_file_option("Model file; the int8 graph is written into it, beside the float weights.")
@click.option(
    "--faces", default=2000, show_default=True, help="Training faces (and their mirrors) the ranges are measured on."
)
def quantize(data, model, faces) -> None:
    """Store the network in 8-bit integers inside the model file (served by onnxruntime, 1.7x faster)."""
    from training.quantize import quantize as run_quantize

    r = run_quantize(data, model, faces)
    click.echo(
        f"PublicTest {r['public_test_float']:.2%} (float) -> {r['public_test_int8']:.2%} (int8);"
        f" same top emotion for {r['same_top_emotion']:.1%} of faces, probabilities within"
        f" {r['largest_probability_change']:.3f}; written into {model}"
        + ("; now `classmood calibrate` it: its temperature was fitted on the float reading" if r["calibrated"] else "")
    )


@click.command("fit-gate")
@data_option
@click.option(
    "--expert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="The meeting expert's model file; the gate is written into its contract.",
)
@click.option("--faces", default=12000, show_default=True, help="Training faces the gate is fitted on.")
@click.option(
    "--band",
    type=(click.FloatRange(0, 1), click.FloatRange(0, 1)),
    default=None,
    help="Degraded probability over which the expert's share rises from 0 to 1 (chosen on PublicTest;"
    " default: core.face_quality's DEFAULT_BAND).",
)
def fit_gate(data, expert, faces, band) -> None:
    """Fit the gate that sends degraded faces to a meeting expert (paired by `pair` or --meeting-expert)."""
    from core.face_quality import DEFAULT_BAND, rising_band
    from training.meeting_gate import write_gate

    try:
        band = rising_band(band or DEFAULT_BAND)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--band") from None
    result = write_gate(data, expert, faces, band=band)
    routed = ", ".join(f"{name} {share:.0%}" for name, share in result["public_test_routed"].items())
    click.echo(
        f"gate agrees with {result['training_agreement']:.1%} of {result['training_faces']:,} Training faces;"
        f" the expert's share of PublicTest readings: {routed}; written into {expert}"
    )


@click.command("pair")
@model_file_option("The clean-face model file; its contract is rewritten to name the expert.")
@click.option(
    "--expert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="The meeting expert's file (fitted gate, `fit-gate`), in the same folder as the model.",
)
@click.option("--model-version", default=None, help="Version written into the model's contract (default: kept).")
@click.option("--expert-version", default=None, help="Version written into the expert's contract (default: kept).")
def pair(model, expert, model_version, expert_version) -> None:
    """Make a model read degraded faces with a meeting expert by default (the shipped model does)."""
    from dataclasses import replace

    from core.model import read_contract, write_contract

    if expert.resolve().parent != model.resolve().parent:
        raise click.UsageError(f"{expert} must sit in the same folder as {model}: the model names it by file name")
    if read_contract(expert).quality_gate is None:
        raise click.UsageError(f"{expert} is not a meeting expert: it has no quality gate (classmood fit-gate)")
    if expert_version:
        write_contract(expert, replace(read_contract(expert), model_version=expert_version))
    contract = read_contract(model)
    write_contract(
        model, replace(contract, meeting_expert=expert.name, model_version=model_version or contract.model_version)
    )
    click.echo(f"{model} now reads degraded faces with {expert.name} (--no-meeting-expert reads without it)")


@click.command()
@data_option
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one).")
@click.option(
    "--split", type=click.Choice(["Training", "PublicTest", "PrivateTest"]), default="PrivateTest", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write confusion PNG + JSON here.")
@click.option("--flip-average", is_flag=True, help="Average each face with its mirror image (2x the cost).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@meeting_expert_option
def evaluate(data, model, split, out, flip_average, as_json, meeting_expert, alone) -> None:
    """Accuracy overall and per class, and a confusion matrix, on one FER2013 split."""
    from training.evaluate import evaluate as run_evaluation

    result = run_evaluation(data, model, split, out, flip_average, meeting_expert_file(meeting_expert, alone))
    if as_json:
        click.echo(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{split}: {result['n']:,} faces, accuracy {result['accuracy']:.2%}")
    for column in ("emotion", "recall", "precision", "faces"):
        table.add_column(column, justify="right")
    for name, recall in result["per_class"].items():
        precision = result["precision"][name]
        table.add_row(
            name,
            f"{recall:.2%}" if recall is not None else "-",
            f"{precision:.2%}" if precision is not None else "-",
            str(result["support"][name]),
        )
    Console().print(table)
    if "accuracy_excluding_training_duplicates" in result:
        click.echo(
            f"without the {result['n'] - result['n_excluding_training_duplicates']} images that repeat a Training"
            f" image: {result['accuracy_excluding_training_duplicates']:.2%}"
        )


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write annotated copies here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, one per line.")
@click.option("--every", default=1.0, show_default=True, help="Seconds between analysed video frames.")
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one).")
@click.option("--detector", type=click.Choice(["auto", "yunet", "mtcnn"]), default="auto", show_default=True)
@click.option(
    "--webcam",
    "webcam",
    is_flag=False,
    flag_value=0,
    type=int,
    default=None,
    help="Live labelled window from camera N (default 0).",
)
@click.option(
    "--balance",
    type=click.Choice(["lecture", "fer2013"]),
    default="lecture",
    show_default=True,
    help="Read faces as a lecture shows them (most calm) or with FER2013's class balance.",
)
@signals_option
@meeting_expert_option
def predict(paths, out, as_json, every, model, detector, webcam, balance, signals, meeting_expert, alone) -> None:
    """Find every face in images, folders or videos: its expression and where it is turned."""
    from classmood.predict import predict_paths, run_webcam
    from core.emotions import EmotionClassifier
    from core.faces import default_detector

    attention_only = signals == "attention"
    expert = meeting_expert_file(meeting_expert, alone)
    classifier = None if attention_only else EmotionClassifier(model, balance=balance, meeting_expert=expert)
    poser = head_pose_reader(required=attention_only)
    face_detector = default_detector(detector)
    if webcam is not None:
        run_webcam(webcam, face_detector, classifier, poser)
        return
    if not paths:
        raise click.UsageError("give at least one image, folder or video (or --webcam)")
    failures = predict_paths(paths, face_detector, classifier, out, as_json, every, poser)
    if failures:
        sys.exit(1)
