"""Training recipes: a model's whole derivation from the FER2013 CSV as one file of phases.

A recipe (TOML, `training/recipes/`) lists phases; each is a set of `TrainConfig` fields and
runs as a `--resume` of one run folder, so an interrupted recipe resumes with the same command
and finished phases are skipped (their epochs are already in the checkpoint). `include` puts
another recipe's phases first. File names in a phase are read beside the --data CSV, or from
the working directory when they start with "./" (another run's model, e.g. a fine-tune's start).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import fields, replace
from pathlib import Path

from training.augment import PROFILES
from training.config import TrainConfig
from training.train import train

logger = logging.getLogger(__name__)

PHASE_KEYS = {f.name for f in fields(TrainConfig)} - {"data", "out", "cache_dir", "limit_per_split", "model_version"}
PATH_KEYS = {"ferplus", "init_from", "distill_from", "session_checkpoint"}


class RecipeError(ValueError):
    """The recipe file cannot be used; the message is one line."""


def read_recipe(path: Path) -> dict:
    """{"model_version", "calibrate", "phases": [dict, ...]} with included recipes' phases first."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"recipe {path} cannot be read: {exc}") from None
    phases = read_recipe(Path(path).parent / raw["include"])["phases"] if "include" in raw else []
    for number, phase in enumerate(raw.get("phase", []), len(phases) + 1):
        unknown = set(phase) - PHASE_KEYS
        if unknown:
            raise RecipeError(f"recipe {path}, phase {number}: unknown settings {sorted(unknown)}")
        if "epochs" not in phase:
            raise RecipeError(f"recipe {path}, phase {number}: says no epochs")
        if phase.get("augment", "standard") not in PROFILES:
            raise RecipeError(
                f"recipe {path}, phase {number}: no augmentation {phase['augment']!r} ({', '.join(PROFILES)})"
            )
        phases.append(phase)
    if not phases:
        raise RecipeError(f"recipe {path} has no [[phase]]")
    if any(b["epochs"] <= a["epochs"] for a, b in zip(phases, phases[1:])):
        raise RecipeError(f"recipe {path}: each phase must end at a later epoch than the one before")
    return {
        "model_version": str(raw.get("model_version", "dev")),
        "calibrate": raw.get("calibrate", False),
        "phases": phases,
    }


def phase_configs(recipe: dict, base: TrainConfig) -> list[TrainConfig]:
    """One TrainConfig per phase: the base (data, out, ...) with the phase's settings."""
    beside = Path(base.data).parent

    def path(value: str) -> Path:
        return Path(value) if value.startswith("./") else beside / value

    configs = []
    for phase in recipe["phases"]:
        settings = {k: (path(v) if k in PATH_KEYS else v) for k, v in phase.items()}
        if "widths" in settings:
            settings["widths"] = tuple(settings["widths"])
        configs.append(replace(base, model_version=recipe["model_version"], **settings))
    return configs


def run_recipe(path: Path, base: TrainConfig, progress: bool = True) -> dict:
    """Run (or resume) every phase; calibrate the result on PublicTest if the recipe says so."""
    recipe = read_recipe(path)
    configs = phase_configs(recipe, base)
    metrics = {}
    for number, config in enumerate(configs, 1):
        logger.info("recipe %s: phase %d of %d, to epoch %d", Path(path).name, number, len(configs), config.epochs)
        metrics = train(config, resume=True, progress=progress)
    if recipe["calibrate"]:
        from training import ferplus
        from training.calibrate import calibrate

        votes = ferplus.beside(base.data)
        metrics["calibration"] = calibrate(base.data, Path(metrics["model"]), base.out, votes=votes)
    return metrics
