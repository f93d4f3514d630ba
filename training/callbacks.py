"""Keras callbacks: PublicTest-driven schedule + checkpoints, and a rich progress bar."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from training import session_checkpoint
from training.averaging import SNAPSHOT
from training.config import config_row, cosine_learning_rate

logger = logging.getLogger(__name__)


class EpochBookkeeping(keras.callbacks.Callback):
    """After each epoch: record metrics, save last/best, reduce LR on a plateau, stop early.
    In a cosine phase the learning rate follows the cosine instead, set before each epoch.

    One callback instead of Keras' three so that all of its state lives in TrainState and
    survives an interruption (Keras' own ReduceLROnPlateau forgets its counters on restart).
    """

    def __init__(self, config, state, ckpt: Path):
        super().__init__()
        self.config, self.state, self.ckpt = config, state, ckpt

    def on_epoch_begin(self, epoch, logs=None):
        if self.config.schedule == "cosine":
            self.model.optimizer.learning_rate.assign(cosine_learning_rate(self.config, self.state, epoch))

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        state, config = self.state, self.config
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {
            "epoch": epoch + 1,
            "learning_rate": lr,
            **config_row(config),
            **{k: float(v) for k, v in logs.items()},
        }
        state.history.append(row)
        state.epoch = epoch + 1
        accuracy = logs.get("val_accuracy", 0.0)
        if accuracy > state.best_accuracy:
            state.best_accuracy, state.best_epoch, state.since_improved = float(accuracy), epoch + 1, 0
            self.model.save(self.ckpt / "best.tmp.keras")
            (self.ckpt / "best.tmp.keras").replace(self.ckpt / "best.keras")
        else:
            state.since_improved += 1
        state.since_reduced += 1
        plateau = config.schedule == "plateau"
        stalled = state.since_improved >= config.plateau_patience and state.since_reduced >= config.plateau_patience
        if plateau and stalled:
            new_lr = max(lr * config.plateau_factor, config.min_learning_rate)
            if new_lr < lr:
                self.model.optimizer.learning_rate.assign(new_lr)
                logger.info("PublicTest plateau: learning rate %.2e -> %.2e", lr, new_lr)
                lr = new_lr
            state.since_reduced = 0
        state.learning_rate = lr
        if plateau and state.since_improved >= config.early_stop_patience:
            # A cosine phase runs its planned length: its early, high-LR epochs may trail the best.
            state.stopped_early = True
            self.model.stop_training = True
        if config.average_last > 1 and epoch + 1 > config.epochs - config.average_last:
            (self.ckpt / "epochs").mkdir(exist_ok=True)
            self.model.save(self.ckpt / "epochs" / SNAPSHOT.format(epoch + 1))
        self.model.save(self.ckpt / "last.tmp.keras")
        (self.ckpt / "last.tmp.keras").replace(self.ckpt / "last.keras")
        state.save(self.ckpt / "state.json")
        if config.session_checkpoint is not None:
            session_checkpoint.save(self.model, state, config, config.session_checkpoint)


class RichProgress(keras.callbacks.Callback):
    """One bar for epochs and one for the batches of the current epoch, with live metrics."""

    def __init__(self, epochs: int, steps: int):
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
        )

    def on_train_begin(self, logs=None):
        self.progress.start()
        self.epoch_task = self.progress.add_task("epochs", total=self.epochs, metrics="")
        self.batch_task = self.progress.add_task("batches", total=self.steps, metrics="")

    def on_epoch_begin(self, epoch, logs=None):
        self.progress.update(self.epoch_task, completed=epoch)
        self.progress.reset(self.batch_task, total=self.steps, description=f"epoch {epoch + 1}")

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        text = f"loss {logs.get('loss', 0):.3f} acc {logs.get('accuracy', 0):.3f}"
        self.progress.update(self.batch_task, completed=batch + 1, metrics=text)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        text = f"val_acc {logs.get('val_accuracy', 0):.4f} val_loss {logs.get('val_loss', 0):.3f}"
        self.progress.update(self.epoch_task, completed=epoch + 1, metrics=text)
        self.progress.console.log(f"epoch {epoch + 1}: acc {logs.get('accuracy', 0):.4f} {text}")

    def on_train_end(self, logs=None):
        self.progress.stop()
