"""`classmood …`: thin commands over core/, training/, agent/ and dashboard/.

Domain errors become one-line `Error: …` messages here, never tracebacks.
"""

from __future__ import annotations

import logging
import os
import sys

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter is not for users

from classmood import __version__  # noqa: E402


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


from classmood import class_commands, model_commands, records_commands  # noqa: E402

for command in (
    class_commands.run, class_commands.agent, class_commands.dashboard,
    model_commands.predict, model_commands.train, model_commands.evaluate, model_commands.calibrate, model_commands.eda,
    model_commands.train_pose, model_commands.fit_gate, model_commands.pair, model_commands.quantize,
    model_commands.train_names,
    records_commands.db, records_commands.users, records_commands.student,
):  # fmt: skip
    main.add_command(command)
