"""`classmood train`: fit the CNN on FER2013 Training, steer it by PublicTest, resume after a crash.

Layout of OUT:
    checkpoint/last.keras   model + optimizer after the latest finished epoch (for --resume)
    checkpoint/best.keras   weights with the best PublicTest accuracy so far
    checkpoint/state.json   epoch, best score, plateau counters, learning rate, history
    emotion_cnn.keras       the final model (best PublicTest epoch) with its contract
    metrics.json, curves.png
With a recipe's `session_checkpoint`, the weights and state are also carried in the repository
between working sessions (training/session_checkpoint.py) and resumed from where OUT has none.
PrivateTest is never read here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from core.labels import EMOTIONS
from core.model import Contract, make_model, save_model
from training import fer2013, ferplus, session_checkpoint
from training.averaging import SNAPSHOT, average_snapshots, refresh_batchnorm, snapshot_epochs
from training.config import TrainConfig, TrainState, config_row, phase_of, starts_new_phase
from training.degrade import meeting_view

logger = logging.getLogger(__name__)


def drop_blank(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FER2013 holds all-black images; they teach nothing but noise."""
    keep = images.reshape(len(images), -1).max(axis=1) > 0
    return images[keep], labels[keep]


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(len(EMOTIONS), dtype=np.float32)[labels]


def load_splits(config: TrainConfig):
    """Training images with their targets (n, 7), PublicTest images with their labels."""
    if config.limit_per_split is not None:
        data = fer2013.parse_csv(config.data, limit_per_usage=config.limit_per_split)
    else:
        data = fer2013.load(config.data, config.cache_dir)
    x_train, y_train = data.split("Training")
    x_val, y_val = data.split("PublicTest")
    if len(x_train) == 0 or len(x_val) == 0:
        raise fer2013.DataError(f"{config.data}: needs Training and PublicTest rows")
    if config.ferplus is None:
        t_train = one_hot(y_train)
    else:
        votes = ferplus.load_votes(config.ferplus, "Training", limit=config.limit_per_split)
        t_train = ferplus.blend(y_train, votes, config.ferplus_weight)
    if config.distill_from is not None:
        teacher = teacher_probabilities(config.distill_from, x_train, config.distill_flip)
        t_train = distilled(t_train, teacher, config.distill_weight)
    x_train, t_train = drop_blank(x_train, t_train)
    if config.validate_on == "meeting":
        x_val = meeting_view(x_val)
    elif config.validate_on != "clean":
        raise ValueError(f"validate_on must be clean or meeting, not {config.validate_on!r}")
    return x_train, t_train, x_val, y_val


def distilled(targets: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) * the label targets + weight * the teacher's probabilities.

    The teacher reads the clean image once; the student is then trained on that image made
    small, coded or dim (the "meeting" augmentation) towards the same target, so it learns to
    read a degraded face as the teacher reads the clean one instead of drifting from it.
    """
    if targets.shape != teacher.shape:
        raise ValueError(f"teacher gave {teacher.shape} probabilities for {targets.shape} targets")
    return ((1 - weight) * targets + weight * teacher).astype(np.float32)


def teacher_probabilities(model_path: Path, images: np.ndarray, flip: bool = False) -> np.ndarray:
    """The teacher model's (uncalibrated) probabilities for clean (n, 48, 48) images; with
    `flip`, the mean of its reading of each image and of its mirror (a stronger teacher:
    mirror averaging adds most of a point on PublicTest at no cost to the student)."""
    from core.model import load_model

    model, _ = load_model(model_path)
    logger.info("teacher %s reads %d clean Training images%s", model_path, len(images), " and mirrors" if flip else "")
    views = [images, images[:, :, ::-1]] if flip else [images]
    readings = [model.predict(v[..., None].astype(np.float32), batch_size=512, verbose=0) for v in views]
    return np.mean(readings, axis=0).astype(np.float32)


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train (or resume) and write the final model, curves and metrics; returns the metrics."""
    import keras

    from training.batches import AugmentedBatches, SetEpoch
    from training.callbacks import EpochBookkeeping, RichProgress
    from training.plots import plot_curves

    x_train, t_train, x_val, y_val = load_splits(config)
    ckpt = config.out / "checkpoint"
    ckpt.mkdir(parents=True, exist_ok=True)
    state_path = ckpt / "state.json"

    carried = config.session_checkpoint
    if resume and (ckpt / "last.keras").exists() and state_path.exists():
        state = TrainState.load(state_path)
        model = keras.models.load_model(ckpt / "last.keras")
        model.optimizer.learning_rate.assign(state.learning_rate)
        logger.info("resuming after epoch %d (best PublicTest %.4f)", state.epoch, state.best_accuracy)
    elif resume and session_checkpoint.exists(carried):
        model, state = session_checkpoint.restore(carried, config)
        compiled(model, config, state.learning_rate).save(ckpt / "best.keras")
        logger.info("resuming after epoch %d from the carried checkpoint %s (optimizer afresh)", state.epoch, carried)
    else:
        if resume:
            logger.warning("no checkpoint in %s; starting from scratch", ckpt)
        keras.utils.set_random_seed(config.seed)
        state = TrainState(learning_rate=config.learning_rate)
        model = compiled(initial_model(config, x_train), config, config.learning_rate)
    if state.history and starts_new_phase(state.history[-1], config):
        # A new phase (a light-augmentation fine-tune, a cosine restart): patience starts afresh.
        state.since_improved = state.since_reduced = 0
        state.stopped_early = False
        state.phase_start = state.epoch  # a cosine phase's learning rate is set per epoch from here
        logger.info("phase %s from epoch %d on", phase_of(config_row(config)), state.epoch + 1)

    if state.epoch < config.epochs and not state.stopped_early:
        batches = AugmentedBatches(x_train, t_train, config.batch_size, config.seed, config.augment)
        val = (x_val[..., None].astype(np.float32), one_hot(y_val))
        callbacks = [EpochBookkeeping(config, state, ckpt), SetEpoch(batches)]
        if progress:
            callbacks.append(RichProgress(config.epochs, len(batches)))
        model.fit(
            batches,
            validation_data=val,
            batch_size=256,
            epochs=config.epochs,
            initial_epoch=state.epoch,
            callbacks=callbacks,
            verbose=0,
        )

    best = keras.models.load_model(ckpt / "best.keras") if (ckpt / "best.keras").exists() else model
    accuracy, averaged = state.best_accuracy, None
    if config.average_last > 1 and (tail := average_phase_tail(config, state, ckpt, x_train, x_val, y_val)):
        mean_model, averaged = tail
        averaged["shipped"] = averaged["public_test_accuracy"] > state.best_accuracy
        if averaged["shipped"]:
            best, accuracy = mean_model, averaged["public_test_accuracy"]
    contract = Contract(model_version=config.model_version)
    model_path = save_model(best, config.out / "emotion_cnn.keras", contract)
    metrics = {
        "model": str(model_path),
        "epochs_run": state.epoch,
        "best_epoch": state.best_epoch,
        "public_test_accuracy": accuracy,
        "best_epoch_public_test_accuracy": state.best_accuracy,
        "averaged": averaged,
        "stopped_early": state.stopped_early,
        "train_images": int(len(x_train)),
        "public_test_images": int(len(x_val)),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in config.__dict__.items()},
        "history": state.history,
    }
    (config.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if state.history:
        plot_curves(state.history, config.out / "curves.png")
    return metrics


def compiled(model, config: TrainConfig, learning_rate: float):
    """The model with the run's optimizer (AdamW, fresh moments) and loss."""
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def initial_model(config: TrainConfig, x_train: np.ndarray):
    """A fresh network, or a ClassMood model file's network to fine-tune. A shipped file has its
    BatchNormalization folded into the convolutions; it trains as it is, without BN, unless
    `restore_batchnorm` rebuilds the BN network (as wide as `widths`/`dense`) around its weights."""
    if config.init_from is None:
        return make_model(widths=config.widths, dense=config.dense)
    from core.model import load_model

    model, _ = load_model(config.init_from)
    logger.info("starting from the weights of %s", config.init_from)
    if config.restore_batchnorm:
        from training.widen import trainable_copy

        model = trainable_copy(model, x_train, config.widths, config.dense, seed=config.seed)
        logger.info("BatchNorm restored; stages %s wide, head %d", config.widths, config.dense)
    return model


def average_phase_tail(config: TrainConfig, state: TrainState, ckpt: Path, x_train, x_val, y_val):
    """Average the snapshots of the current phase's last `average_last` epochs and score the
    result on PublicTest: (model, {"epochs", "public_test_accuracy"}), or None with fewer than
    two snapshots. The caller ships it only if it beats the best single epoch."""
    first = max(state.phase_start, state.epoch - config.average_last) + 1
    epochs = [e for e in snapshot_epochs(ckpt / "epochs") if first <= e <= state.epoch]
    if len(epochs) < 2:
        logger.warning("weight averaging needs 2+ snapshots of epochs %d-%d; found %s", first, state.epoch, epochs)
        return None
    model = average_snapshots([ckpt / "epochs" / SNAPSHOT.format(e) for e in epochs])
    refresh_batchnorm(model, x_train)
    probs = model.predict(x_val[..., None].astype(np.float32), batch_size=512, verbose=0)
    accuracy = float((probs.argmax(axis=1) == y_val).mean())
    logger.info(
        "mean of epochs %d-%d: PublicTest %.4f (best single epoch %.4f)",
        epochs[0],
        epochs[-1],
        accuracy,
        state.best_accuracy,
    )
    model.save(ckpt / "averaged.keras")
    return model, {"epochs": epochs, "public_test_accuracy": accuracy}
