"""Training batches for Keras: shuffled and freshly augmented each epoch, reproducibly."""

from __future__ import annotations

import keras
import numpy as np

from training.augment import augment_batch


class AugmentedBatches(keras.utils.PyDataset):
    """The shuffle and the augmentation depend only on (seed, epoch, batch): a resumed run
    sees the same batches it would have seen without the interruption."""

    def __init__(self, images: np.ndarray, targets: np.ndarray, batch_size: int, seed: int, profile: str):
        super().__init__()
        self.images, self.targets, self.profile = images, targets, profile
        self.batch_size, self.seed = batch_size, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.order = np.random.default_rng((self.seed, epoch)).permutation(len(self.images))

    def __len__(self) -> int:
        return int(np.ceil(len(self.images) / self.batch_size))

    def __getitem__(self, index: int):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        x = augment_batch(self.images[idx], rng, self.profile)[..., None].astype(np.float32)
        return x, self.targets[idx]


class SetEpoch(keras.callbacks.Callback):
    def __init__(self, batches: AugmentedBatches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
