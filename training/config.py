"""A training run's settings (TrainConfig), its state between epochs (TrainState) and the
schedule rules both the run and its callbacks follow. No Keras here: the run (training.train)
and its callbacks (training.callbacks) both read this module, and neither reads the other."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class TrainConfig:
    data: Path
    out: Path = Path("runs/train")
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    min_learning_rate: float = 1e-5
    early_stop_patience: int = 10
    seed: int = 1
    augment: str = "standard"  # a key of training.augment.PROFILES
    schedule: str = "plateau"  # "plateau": halve on a PublicTest plateau; "cosine": anneal to min lr by `epochs`
    widths: tuple[int, ...] = (16, 48, 128, 256)
    dense: int = 256
    limit_per_split: int | None = None  # small slices for tests
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())
    model_version: str = "dev"
    ferplus: Path | None = None  # FER+ vote file; its crowd votes are blended into the Training targets
    ferplus_weight: float = 0.3
    average_last: int = 0  # >1: also try the mean weights of the phase's last N epochs (SWA)
    init_from: Path | None = None  # start from this model's weights (e.g. the shipped one), not at random
    restore_batchnorm: bool = False  # init_from's folded BN rebuilt (training.widen), `widths`/`dense` wide
    distill_from: Path | None = None  # a teacher model: its probabilities on the clean image join the target
    distill_weight: float = 0.5
    distill_flip: bool = False  # the teacher reads the clean image and its mirror, probabilities averaged
    # "meeting": PublicTest, which steers the run, is seen through training.degrade's meeting
    # conditions (seeded), as the meeting expert will see its faces; "clean": as it is
    validate_on: str = "clean"
    # A run longer than one working session: its weights and state carried in the repository
    # (training/session_checkpoint.py), e.g. training/checkpoints/v3
    session_checkpoint: Path | None = None


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "classmood"


@dataclass
class TrainState:
    """What --resume needs beyond the weights; saved after every epoch."""

    epoch: int = 0  # epochs finished
    best_accuracy: float = -1.0
    best_epoch: int = 0
    since_improved: int = 0
    since_reduced: int = 0
    learning_rate: float = 1e-3
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    phase_start: int = 0  # epochs finished when the current phase (augment, schedule, targets) began

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TrainState:
        return cls(**json.loads(path.read_text()))


def phase_of(row: dict) -> tuple[str, str, str]:
    """A training phase is a stretch of epochs with one augmentation profile, one LR schedule
    and one kind of target (FER2013's labels alone, or blended with FER+ votes)."""
    return row.get("augment", "standard"), row.get("schedule", "plateau"), row.get("targets", "fer2013")


def starts_new_phase(last_row: dict, config: TrainConfig) -> bool:
    """Does resuming with `config` after `last_row` begin a new phase? A cosine resumed with
    another start learning rate is a new cycle too (rows before v1.2 did not record it)."""
    now = config_row(config)
    if phase_of(last_row) != phase_of(now):
        return True
    before = last_row.get("start_learning_rate")
    return now["schedule"] == "cosine" and before is not None and before != now["start_learning_rate"]


def targets_name(config: TrainConfig) -> str:
    name = "fer2013" if config.ferplus is None else f"fer2013+ferplus@{config.ferplus_weight:g}"
    if config.distill_from is not None:
        name += f"+teacher{'(flip)' if config.distill_flip else ''}@{config.distill_weight:g}"
    return name


def cosine_learning_rate(config: TrainConfig, state: TrainState, epoch: int) -> float:
    """Cosine annealing from config.learning_rate at the phase's first epoch to min_learning_rate
    at its last (`config.epochs`); `epoch` counts from 0 like Keras'."""
    span = max(config.epochs - state.phase_start - 1, 1)
    progress = min(max(epoch - state.phase_start, 0) / span, 1.0)
    low, high = config.min_learning_rate, config.learning_rate
    return low + 0.5 * (high - low) * (1 + np.cos(np.pi * progress))


def config_row(config: TrainConfig) -> dict:
    """The phase-defining settings as a history row records them."""
    return {
        "augment": config.augment,
        "schedule": config.schedule,
        "targets": targets_name(config),
        "start_learning_rate": config.learning_rate,
    }
