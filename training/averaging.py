"""Weight averaging over the last epochs of a cosine phase (SWA, Izmailov et al. 2018).

The epochs at the bottom of a cosine sit around one minimum; their mean usually lies nearer
its centre than any single epoch, and generalizes a little better. The average is a single
model of the same size and speed. BatchNorm's running statistics do not average linearly, so
they are measured again on the training images with the averaged weights.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SNAPSHOT = "epoch-{}.keras"


def snapshot_epochs(folder: Path) -> list[int]:
    """Epoch numbers of the per-epoch snapshots in `folder`, ascending."""
    found = (re.fullmatch(r"epoch-(\d+)\.keras", p.name) for p in folder.glob("epoch-*.keras"))
    return sorted(int(m.group(1)) for m in found if m)


def average_snapshots(paths: list[Path]):
    """A model whose every weight is the mean of that weight across the snapshot files."""
    import keras

    if not paths:
        raise ValueError("no snapshots to average")
    model = keras.models.load_model(paths[0], compile=False)
    total = [w.astype(np.float64) for w in model.get_weights()]
    for path in paths[1:]:
        weights = keras.models.load_model(path, compile=False).get_weights()
        total = [t + w for t, w in zip(total, weights)]
    model.set_weights([(t / len(paths)).astype(np.float32) for t in total])
    return model


def refresh_batchnorm(model, images: np.ndarray, batch_size: int = 256, max_images: int = 8192) -> None:
    """Re-measure every BatchNormalization's mean and variance as plain averages over `images`
    (a fixed random sample of `max_images` of them: plenty for a per-channel mean).

    Each BN layer sees its input under the averaged weights of the layers before it: the
    layers are visited in order, and one pass per layer sets that layer's statistics exactly.
    """
    import keras

    images = sample_images(images, max_images)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    x = images[..., None].astype(np.float32)
    for bn in bns:
        mean, variance = input_statistics(model, bn, x, batch_size)
        gamma, beta, _, _ = bn.get_weights()
        bn.set_weights([gamma, beta, mean, variance])


def sample_images(images: np.ndarray, max_images: int = 8192) -> np.ndarray:
    """A fixed random sample of `max_images` images, in their order (plenty for per-channel statistics)."""
    if len(images) <= max_images:
        return images
    return images[np.sort(np.random.default_rng(0).choice(len(images), max_images, replace=False))]


def input_statistics(model, layer, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and variance of what `layer` receives over the images `x` (n, h, w, 1),
    the model run in inference mode."""
    import keras

    probe = keras.Model(model.input, layer.input)
    count, total, total_sq = 0, 0.0, 0.0
    for start in range(0, len(x), batch_size):
        out = np.asarray(probe(x[start : start + batch_size], training=False), dtype=np.float64)
        flat = out.reshape(-1, out.shape[-1])
        count, total, total_sq = count + len(flat), total + flat.sum(0), total_sq + (flat**2).sum(0)
    mean = total / count
    return mean.astype(np.float32), (total_sq / count - mean**2).astype(np.float32)
