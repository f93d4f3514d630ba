"""`classmood …`: thin commands over core/, training/, agent/ and dashboard/.

Domain errors become one-line `Error: …` messages here, never tracebacks.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from pathlib import Path

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter is not for users

from classmood import __version__  # noqa: E402
from db.retention import DEFAULT_RETENTION_DAYS  # noqa: E402


def user_errors() -> tuple[type[Exception], ...]:
    """Exception types whose message is meant for the user (imported lazily: TF is slow)."""
    from agent.screen import CaptureError
    from core.analyze import InputError
    from core.faces import DetectorUnavailable
    from core.model import ModelFileError
    from dashboard.access import AccessError
    from db.accounts import AccountError
    from db.engine import DatabaseError
    from db.retention import RetentionError
    from training.fer2013 import DataError

    return (
        InputError,
        DetectorUnavailable,
        ModelFileError,
        DataError,
        CaptureError,
        DatabaseError,
        RetentionError,
        AccessError,
        AccountError,
    )


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except user_errors() as exc:
            raise click.ClickException(str(exc)) from None


NEEDS_KERAS = {"train", "evaluate", "calibrate"}  # the agent serves the CNN through onnxruntime


@click.group(cls=Group)
@click.version_option(__version__, prog_name="classmood")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail (TensorFlow's start-up lines too).")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """ClassMood: read the room of an online class from the faces in its gallery view.

    Start with `classmood run` during a lecture: it captures the meeting and opens the
    dashboard. The other commands serve one part at a time, accounts, data and the model."""
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    elif ctx.invoked_subcommand in NEEDS_KERAS and "--help" not in sys.argv:
        from core.quiet import import_keras_quietly

        import_keras_quietly()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("tensorflow", "absl", "h5py", "matplotlib", "PIL", "alembic", "apscheduler", "RapidOCR"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


db_url_option = click.option(
    "--db", "db_url", default=None, help="SQLAlchemy URL (default: SQLite in the user data folder)."
)


def upgraded_engine(db_url: str | None):
    """An engine on the database at `db_url` (or the default), its schema brought up to date."""
    from db.engine import make_engine, upgrade

    return make_engine(upgrade(db_url))


data_option = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("CLASSMOOD_FER2013"),
    required=True,
    help="FER2013 CSV (.csv or .csv.gz); defaults to $CLASSMOOD_FER2013.",
)


@main.command()
@data_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/eda"), show_default=True)
def eda(data: Path, out: Path) -> None:
    """Class counts, sample faces, blank and duplicate images of a FER2013 CSV."""
    from training import fer2013
    from training.eda import run_eda
    from training.train import default_cache_dir

    summary = run_eda(fer2013.load(data, default_cache_dir()), out)
    d = summary["duplicates"]
    click.echo(
        f"{summary['rows']:,} rows; {len(summary['blank_rows'])} blank; {d['extra_copies']:,} duplicate copies"
        f" ({d['groups_with_conflicting_labels']} groups with conflicting labels). Report: {out / 'summary.md'}"
    )


@main.command()
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
    type=click.Choice(["standard", "light", "meeting"]),
    default="standard",
    show_default=True,
    help="Augmentation: 'light' for a final fine-tune with --resume; 'meeting' adds small, coded, dim, masked faces.",
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
    from training.train import TrainConfig
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


@main.command()
@data_option
@click.option(
    "--model",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Model file to calibrate; its contract is rewritten in place.",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the reliability PNG + JSON here.")
@click.option("--dry-run", is_flag=True, help="Measure only; leave the model file as it is.")
def calibrate(data, model, out, dry_run) -> None:
    """Fit the model's temperature and guess line on PublicTest; ECE on PrivateTest."""
    from training.calibrate import calibrate as run_calibration

    r = run_calibration(data, model, out, write=not dry_run)
    ece, guesses = r["private_test_ece"], r["private_test_guesses"]
    click.echo(
        f"temperature {r['temperature']:.3f}, guess below {r['uncertain_below']:.2f};"
        f" PrivateTest ECE {ece['raw']:.2%} -> {ece['calibrated']:.2%};"
        f" guesses {guesses['share']:.1%} of faces" + ("" if dry_run else f"; written into {model}")
    )


@main.command()
@data_option
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one).")
@click.option(
    "--split", type=click.Choice(["Training", "PublicTest", "PrivateTest"]), default="PrivateTest", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write confusion PNG + JSON here.")
@click.option("--flip-average", is_flag=True, help="Average each face with its mirror image (2x the cost).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(data, model, split, out, flip_average, as_json) -> None:
    """Accuracy overall and per class, and a confusion matrix, on one FER2013 split."""
    from training.evaluate import evaluate as run_evaluation

    result = run_evaluation(data, model, split, out, flip_average)
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


@main.command()
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
def predict(paths, out, as_json, every, model, detector, webcam, balance) -> None:
    """Find every face in images, folders or videos and name its expression."""
    from classmood.predict import predict_paths, run_webcam
    from core.emotions import EmotionClassifier
    from core.faces import default_detector

    classifier = EmotionClassifier(model, balance=balance)
    face_detector = default_detector(detector)
    if webcam is not None:
        run_webcam(webcam, face_detector, classifier)
        return
    if not paths:
        raise click.UsageError("give at least one image, folder or video (or --webcam)")
    failures = predict_paths(paths, face_detector, classifier, out, as_json, every)
    if failures:
        sys.exit(1)


def parse_rules(pairs: tuple[str, ...]):
    """--rule negative_minutes=5 --rule absent_minutes=3 ... -> FlagRules (unknown names refused)."""
    from dataclasses import fields

    from core.flags import FlagRules

    known = {f.name: f.type for f in fields(FlagRules)}
    values = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known or not value:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(known)}")
        values[name] = int(value) if known[name] in ("int", int) else float(value)
    return FlagRules(**values)


def read_zone_option(_ctx, _param, value: str | None) -> str | None:
    """--timezone NAME, checked before anything starts."""
    from dashboard.clock import ZoneError, parse_zone

    try:
        parse_zone(value)
    except ZoneError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


timezone_option = click.option(
    "--timezone",
    default=None,
    callback=read_zone_option,
    help="Show times in this zone, e.g. America/Santiago (default: this computer's zone). The database keeps UTC.",
)

rule_option = click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a flag threshold, e.g. --rule absent_minutes=3 (repeatable).",
)


@main.command()
@db_url_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Listen address (beyond loopback only with accounts)."
)
@click.option("--port", default=8050, show_default=True, help="Port to listen on.")
@rule_option
@timezone_option
def dashboard(db_url, host, port, rules, timezone) -> None:
    """Serve the live dashboard and the session reports (to signed-in users, or to whoever
    has the printed address while no account exists)."""
    from dashboard.app import check_port_free, create_app, serve
    from db.engine import default_url, missing_sqlite_file, printable, upgrade

    url = db_url or default_url()
    accounts, token = access_mode(url, host)  # beyond loopback without accounts: said first
    check_port_free(host, port)
    if not missing_sqlite_file(url):
        upgrade(url)  # a database from an older ClassMood gains the new columns (a missing one stays missing)
    app = create_app(url, parse_rules(rules), token, accounts, port, timezone)
    click.echo(f"ClassMood dashboard on {address(host, port, token)}  (database: {printable(url)}; Ctrl-C stops)")
    serve(app, host, port)


def check_interval(seconds: float) -> None:
    """Seconds between captures: a positive, finite number (nan, inf, 0 and -1 are refused)."""
    if not (math.isfinite(seconds) and 0 < seconds <= 86400):
        raise click.BadParameter("must be a number of seconds between 0 and 86400", param_hint="--interval")


def access_mode(url: str, host: str) -> tuple[bool, str | None]:
    """(accounts on, per-run token): sign-in once the database has an account; before that,
    a per-run token, and loopback only."""
    from dashboard.access import check_host, run_token
    from db.accounts import accounts_at

    if accounts_at(url):
        return True, None
    check_host(host)
    return False, run_token()


def address(host: str, port: int, token: str | None) -> str:
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


retention_option = click.option(
    "--retention-days",
    type=click.IntRange(min=0, max=36500),
    default=DEFAULT_RETENTION_DAYS,
    show_default=True,
    help="Sessions older than this are deleted at start-up (0: keep everything).",
)


teacher_option = click.option(
    "--teacher",
    envvar="CLASSMOOD_TEACHER",
    default=None,
    help="The account this class belongs to (classmood users add); only they and admins see it. "
    "Default: $CLASSMOOD_TEACHER.",
)


def read_roster_option(_ctx, _param, value: Path | None):
    """--roster FILE, read before anything starts: a list that cannot be used stops the command."""
    if value is None:
        return None
    from core.roster import RosterError, read_roster

    try:
        return read_roster(value)
    except RosterError as exc:
        raise click.BadParameter(str(exc)) from None


roster_option = click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=read_roster_option,
    help="The class list: UTF-8 text, one name per line, or a CSV with a 'name' (and 'id') column. "
    "Each name tag is matched to it (student numbers, names cut short, OCR slips); a tag that "
    "matches nobody clearly is kept as read.",
)


@main.command()
@click.option("--window", default=None, help="Capture the window whose title contains this text.")
@click.option("--monitor", type=int, default=None, help="Capture monitor N (default: the primary one).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between captures.")
@click.option(
    "--session", "session_name", default=None, help="Name of this class session (default: the date and time)."
)
@db_url_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Dashboard's listen address (beyond loopback only with accounts).",
)
@click.option("--port", default=8050, show_default=True, help="Dashboard's port.")
@click.option("--pseudonymize", is_flag=True, help="Store a salted hash instead of each name.")
@click.option(
    "--name-langs",
    default=None,
    help="Scripts of the students' names, e.g. Latin,Hangul,Hebrew (Tesseract script models;"
    " default: every installed one, tried only when a Latin reading is unsure).",
)
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one).")
@retention_option
@teacher_option
@roster_option
@click.option("--no-browser", is_flag=True, help="Do not open the dashboard in a browser.")
@rule_option
@timezone_option
def run(
    window,
    monitor,
    interval,
    session_name,
    db_url,
    host,
    port,
    pseudonymize,
    name_langs,
    model,
    retention_days,
    teacher,
    roster,
    no_browser,
    rules,
    timezone,
) -> None:
    """The main job: capture agent and dashboard together; Ctrl-C stops both."""
    import threading

    from agent.cli import run_agent
    from dashboard.app import check_port_free, create_app, serve
    from db.engine import upgrade

    check_interval(interval)
    check_port_free(host, port)
    url = upgrade(db_url)
    accounts, token = access_mode(url, host)
    if accounts and not teacher:
        raise click.UsageError("this database has accounts: say whose class this is with --teacher NAME")
    app = create_app(url, parse_rules(rules), token, accounts, port, timezone)
    server = threading.Thread(target=serve, args=(app, host, port), daemon=True, name="dashboard")
    server.start()
    click.echo(f"dashboard: {address(host, port, token)}")
    if not no_browser:
        import webbrowser

        webbrowser.open(address(host, port, token))
    run_agent(
        window=window,
        monitor=monitor,
        region=None,
        video=None,
        images=None,
        interval=interval,
        db_url=url,
        session_name=session_name,
        keep_frames=None,
        pseudonymize=pseudonymize,
        model=model,
        name_langs=name_langs,
        retention_days=retention_days,
        teacher=teacher,
        roster=roster,
    )
    click.echo("agent stopped; dashboard stopped")


@main.group(invoke_without_command=True)
@click.option("--window", default=None, help="Capture the window whose title contains this text.")
@click.option("--monitor", type=int, default=None, help="Capture monitor N (1 = primary; default).")
@click.option("--region", default=None, help="Capture the screen region X,Y,W,H.")
@click.option("--video", type=click.Path(path_type=Path), default=None, help="Process a recording, then exit.")
@click.option("--images", type=click.Path(path_type=Path), default=None, help="Process a folder of screenshots.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between captures.")
@db_url_option
@click.option("--session", "session_name", default=None, help="Name of this class session.")
@click.option("--keep-frames", type=click.Path(path_type=Path), default=None, help="Also save each frame here.")
@click.option("--pseudonymize", is_flag=True, help="Store a salted hash instead of each name.")
@click.option("--no-ocr", is_flag=True, help="Do not read name tags; track tiles by position.")
@click.option(
    "--name-langs",
    default=None,
    help="Scripts of the students' names, e.g. Latin,Hangul,Hebrew (Tesseract script models;"
    " default: every installed one, tried only when a Latin reading is unsure).",
)
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model file (default: the shipped one).")
@retention_option
@teacher_option
@roster_option
@click.pass_context
def agent(ctx, no_ocr: bool, **options) -> None:
    """Capture the meeting on a schedule and write per-student emotion rows (Ctrl-C stops)."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.cli import run_agent

    check_interval(options["interval"])
    run_agent(**options, ocr=not no_ocr)


@agent.command("stop")
def agent_stop() -> None:
    """Stop the running agent; it closes its session cleanly."""
    from agent.cli import stop_agent

    click.echo(stop_agent())


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@db_url_option
def db_upgrade(db_url) -> None:
    """Create or migrate the database schema to the latest version."""
    from db.engine import printable, upgrade

    url = upgrade(db_url)
    click.echo(f"database is up to date: {printable(url)}")


@db.command("purge")
@click.option("--older-than", "age", required=True, help="Delete sessions started longer ago than this: 30d, 12w, 48h.")
@db_url_option
def db_purge(age: str, db_url) -> None:
    """Delete old sessions with their observations, captures and participants."""
    from datetime import UTC, datetime

    from db.retention import parse_age, purge_older_than

    cutoff = datetime.now(UTC) - parse_age(age)
    removed = purge_older_than(upgraded_engine(db_url), cutoff)
    click.echo(
        f"purged {removed.sessions} session(s) started before {cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{removed.observations} observations, {removed.captures} captures, {removed.participants} participants"
    )


@main.group()
def users() -> None:
    """Dashboard accounts: teachers see their own sessions, admins all. Once one exists, the
    dashboard asks everyone to sign in."""


def new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["teacher", "admin"]), default="teacher", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_url_option
def users_add(name: str, role: str, password_stdin: bool, db_url) -> None:
    """Add an account (the password is asked twice, or read from stdin)."""
    from db.accounts import add_account

    user = add_account(upgraded_engine(db_url), name, new_password(password_stdin), role)
    click.echo(f"added {user.role} {user.username!r}")


@users.command("list")
@db_url_option
def users_list(db_url) -> None:
    """Accounts, their roles and how many sessions each owns."""
    from db.accounts import list_accounts

    for row in list_accounts(upgraded_engine(db_url)):
        click.echo(
            f"{row['username']}\t{row['role']}\t{row['sessions']} session(s)\tsince {row['created_at']:%Y-%m-%d}"
        )


@users.command("remove")
@click.argument("name")
@db_url_option
def users_remove(name: str, db_url) -> None:
    """Remove an account; its sessions stay, seen by admins only, until purged."""
    from db.accounts import remove_account

    remove_account(upgraded_engine(db_url), name)
    click.echo(f"removed {name!r}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_url_option
def users_passwd(name: str, password_stdin: bool, db_url) -> None:
    """Set a new password for an account."""
    from db.accounts import set_password

    set_password(upgraded_engine(db_url), name, new_password(password_stdin))
    click.echo(f"password of {name!r} changed")


@main.group()
def student() -> None:
    """Access and erasure requests: every row of one student, in every session."""


student_teacher_option = click.option(
    "--teacher", default=None, help="Only in this teacher's sessions (default: every session in the database)."
)


def owner_of(engine, teacher: str | None) -> int | None:
    from db.accounts import account_id

    return account_id(engine, teacher) if teacher else None


@student.command("export")
@click.argument("name")
@db_url_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the JSON here (default: stdout).")
@student_teacher_option
def student_export(name: str, db_url, out: Path | None, teacher) -> None:
    """Everything stored about NAME, as JSON (any spelling the agent stored, "..." included)."""
    from db.retention import export_student

    engine = upgraded_engine(db_url)
    found = export_student(engine, name, owner=owner_of(engine, teacher))
    text = json.dumps(found, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        observations = sum(len(s["observations"]) for s in found["sessions"])
        click.echo(f"{len(found['sessions'])} session(s), {observations} observations -> {out}")


@student.command("erase")
@click.argument("name")
@db_url_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@student_teacher_option
def student_erase(name: str, db_url, yes: bool, teacher) -> None:
    """Delete every observation and participant row of NAME, in every session (of --teacher)."""
    from db.retention import erase_student

    if not yes:
        click.confirm(f"Erase every row of {name!r}? This cannot be undone", abort=True)
    engine = upgraded_engine(db_url)
    removed = erase_student(engine, name, owner=owner_of(engine, teacher))
    click.echo(
        f"erased {removed.participants} participant row(s), {removed.observations} observations and "
        f"{removed.list_entries} class-list line(s) of {name!r}"
    )
