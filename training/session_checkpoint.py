"""A training run longer than one working session, carried between sessions in the repository.

A session on this project's machine lasts a few hours and the next may start on a fresh
machine, so a run folder (`runs/`, model + optimizer, ~20 MB) does not survive. A recipe that
names `session_checkpoint` keeps, after every epoch, what the run needs to go on: the network's
weights in float16 (at most MAX_BYTES) and its TrainState, in a folder under
`training/checkpoints/` that is committed at the end of the session, replaced by the next and
deleted when the run ships. The next session resumes from it with the recipe's own command.

What is lost on the way: the optimizer's moments (AdamW starts them afresh, which moves the
weights a little in the first steps after a resume), the weights of the best epoch so far
(the resumed epoch counts as the best from there on) and the per-epoch snapshots that
`average_last` averages (only those of the last session's epochs are there to average).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.config import TrainConfig, TrainState

MAX_BYTES = 8 * 1024 * 1024
WEIGHTS = "weights.npz"
STATE = "state.json"


class SessionCheckpointError(RuntimeError):
    """The carried checkpoint cannot be written or does not fit this run; one line."""


def save(model, state: TrainState, config: TrainConfig, folder: Path) -> Path:
    """Write the model's weights (float16) and the run's state to `folder`; returns the weights file."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = {f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(model.get_weights())}
    tmp = folder / "weights.tmp.npz"
    np.savez_compressed(tmp, **weights)
    size = tmp.stat().st_size
    if size > MAX_BYTES:
        tmp.unlink()
        raise SessionCheckpointError(f"{folder}: {size / 1e6:.1f} MB of weights, over {MAX_BYTES / 1e6:.1f} MB")
    tmp.replace(folder / WEIGHTS)
    meta = {"widths": list(config.widths), "dense": config.dense, "state": state.__dict__}
    (folder / "state.tmp.json").write_text(json.dumps(meta, indent=1))
    (folder / "state.tmp.json").replace(folder / STATE)
    return folder / WEIGHTS


def exists(folder: Path | None) -> bool:
    return folder is not None and (folder / WEIGHTS).is_file() and (folder / STATE).is_file()


def restore(folder: Path, config: TrainConfig):
    """(model, state) from a carried checkpoint: a fresh network of the recipe's shape holding
    the carried weights, and the state with the resumed epoch as the best so far."""
    from core.model import make_model

    meta = json.loads((folder / STATE).read_text())
    if (tuple(meta["widths"]), meta["dense"]) != (tuple(config.widths), config.dense):
        carried, asked = f"{meta['widths']}/{meta['dense']}", f"{list(config.widths)}/{config.dense}"
        raise SessionCheckpointError(f"{folder} holds a network {carried} wide, the recipe asks {asked}")
    model = make_model(widths=config.widths, dense=config.dense)
    with np.load(folder / WEIGHTS) as carried:
        weights = [carried[k].astype(np.float32) for k in sorted(carried.files)]
    if [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
        raise SessionCheckpointError(f"{folder}: its weights do not fit the recipe's network")
    model.set_weights(weights)
    state = TrainState(**meta["state"])
    if state.history:
        state.best_accuracy = float(state.history[-1].get("val_accuracy", state.best_accuracy))
    state.best_epoch = state.epoch
    return model, state
