"""PNG figures for training and evaluation (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_curves(history: list[dict], path: Path) -> Path:
    epochs = [row["epoch"] for row in history]
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("accuracy", "Training (augmented)"), ("val_accuracy", "PublicTest")):
        ax_acc.plot(epochs, [row.get(key, np.nan) for row in history], label=label)
    for key, label in (("loss", "Training (augmented)"), ("val_loss", "PublicTest")):
        ax_loss.plot(epochs, [row.get(key, np.nan) for row in history], label=label)
    ax_acc.set(title="Accuracy", xlabel="epoch")
    ax_loss.set(title="Loss (label-smoothed cross-entropy)", xlabel="epoch")
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(matrix: np.ndarray, labels: tuple[str, ...], path: Path, title: str) -> Path:
    """Row-normalized confusion matrix (rows: true class), counts in each cell."""
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{share[i, j]:.2f}\n{matrix[i, j]}", ha="center", va="center", fontsize=7, color=color)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_class_counts(counts: dict[str, dict[str, int]], path: Path) -> Path:
    usages = list(counts)
    labels = list(next(iter(counts.values())))
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(9, 4))
    for k, usage in enumerate(usages):
        bars = ax.bar(x + (k - 1) * 0.27, [counts[usage][e] for e in labels], 0.27, label=usage)
        ax.bar_label(bars, fontsize=6)
    ax.set_xticks(x, labels)
    ax.set(ylabel="images", title="FER2013 class counts per usage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_samples(data, path: Path, per_class: int, rng: np.random.Generator) -> Path:
    from core.labels import EMOTIONS

    fig, axes = plt.subplots(len(EMOTIONS), per_class, figsize=(per_class * 0.9, len(EMOTIONS) * 1.0))
    for i, name in enumerate(EMOTIONS):
        rows = np.flatnonzero(data.labels == i)
        chosen = rng.choice(rows, size=min(per_class, len(rows)), replace=False) if len(rows) else []
        for j in range(per_class):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(chosen):
                ax.imshow(data.images[chosen[j]], cmap="gray", vmin=0, vmax=255)
        axes[i, 0].set_title(name, fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_duplicates(data, groups: list[list[int]], path: Path, shown: int = 8) -> Path:
    """Groups of identical images whose labels disagree, each with its labels and usages."""
    from core.labels import EMOTIONS

    conflicting = [g for g in groups if len(set(data.labels[g].tolist())) > 1][:shown]
    fig, axes = plt.subplots(1, max(1, len(conflicting)), figsize=(max(1, len(conflicting)) * 1.6, 2.2))
    axes = np.atleast_1d(axes)
    for ax, g in zip(axes, conflicting):
        ax.imshow(data.images[g[0]], cmap="gray", vmin=0, vmax=255)
        ax.set_title("\n".join(f"{EMOTIONS[data.labels[i]]} ({data.usage[i][:5]})" for i in g[:3]), fontsize=6)
    for ax in axes:
        ax.axis("off")
    fig.suptitle("identical images, conflicting labels", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_reliability(curves: dict[str, list[dict]], path: Path, title: str) -> Path:
    """Reliability diagram: accuracy against mean confidence per bin, one line per curve
    (e.g. before and after calibration); the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for label, rows in curves.items():
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker="o", label=label)
    ax.set(xlabel="confidence (top probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
