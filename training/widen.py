"""Turn a shipped (BatchNorm-folded) model back into a trainable network, optionally wider,
that computes the same function.

A shipped file has each BatchNormalization merged into its convolution, so a fine-tune from it
trains without BN: inputs that the meeting augmentation makes dim or flat then reach deep
layers unnormalised. `trainable_copy` rebuilds the BN network around the same weights, each BN
set to undo its own normalisation (its scale and shift measured on training images), so the
copy reads every face as the file does before the first step.

Wider stages are grown function-preserving (Net2WiderNet, Chen et al. 2016): each new channel
copies an existing one, and the next layer shares that channel's outgoing weights among its
copies. A little noise on the copies lets them drift apart during training.
"""

from __future__ import annotations

import numpy as np

from training.averaging import input_statistics, sample_images


def channel_maps(old: tuple[int, ...], new: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """For each layer width, which old channel each new channel copies: the old channels first,
    in order, then random picks among them."""
    rng = np.random.default_rng(seed)
    maps = []
    for before, after in zip(old, new):
        if after < before:
            raise ValueError(f"can only widen: {before} channels cannot become {after}")
        maps.append(np.concatenate([np.arange(before), rng.integers(0, before, after - before)]))
    return maps


def widen_kernel(kernel: np.ndarray, in_map: np.ndarray | None, out_map: np.ndarray) -> np.ndarray:
    """A kernel (..., in, out) for the widened layer: columns copied along `out_map`, each input
    row shared among the copies of its channel along `in_map` (None: inputs unchanged)."""
    if in_map is not None:
        copies = np.bincount(in_map, minlength=kernel.shape[-2])
        kernel = kernel[..., in_map, :] / copies[in_map][:, None]
    return kernel[..., out_map]


def trainable_copy(folded, images: np.ndarray, widths=None, dense=None, noise: float = 0.01, seed: int = 0):
    """A BatchNorm network (core.model.make_model) with the function of the folded model
    `folded`, its stages `widths` and head `dense` wide (default: as the file). `images`: training
    faces (n, 48, 48) on which each BN's statistics are measured."""
    from core.model import make_model

    convs = [layer for layer in folded.layers if layer.name.endswith(("_conv0", "_conv1"))]
    old_widths = tuple(layer.filters for layer in convs[::2])
    old_dense = folded.get_layer("head_dense").units
    widths, dense = tuple(widths or old_widths), dense or old_dense
    maps = channel_maps(old_widths + (old_dense,), widths + (dense,), seed)
    rng = np.random.default_rng(seed + 1)
    model = make_model(folded.input_shape[1], widths=widths, dense=dense, batchnorm=True)
    x = sample_images(images)[..., None].astype(np.float32)

    in_map = None
    for conv in convs:
        stage = int(conv.name[1 : conv.name.index("_")])
        out_map = maps[stage]
        kernel, bias = conv.get_weights()
        new_kernel = widen_kernel(kernel, in_map, out_map)
        copied = np.arange(len(out_map)) >= kernel.shape[-1]
        new_kernel[..., copied] *= 1 + noise * rng.standard_normal(new_kernel[..., copied].shape)
        model.get_layer(conv.name).set_weights([new_kernel.astype(np.float32)])
        bn = model.get_layer(conv.name.replace("_conv", "_bn"))
        mean, variance = input_statistics(model, bn, x)
        gamma = np.sqrt(variance + bn.epsilon)  # undo the normalisation...
        beta = mean + bias[out_map]  # ...and add the folded conv's bias
        bn.set_weights([gamma, beta, mean, variance])
        in_map = out_map

    head_kernel, head_bias = folded.get_layer("head_dense").get_weights()
    model.get_layer("head_dense").set_weights([widen_kernel(head_kernel, in_map, maps[-1]), head_bias[maps[-1]]])
    out_kernel, out_bias = folded.get_layer("emotion").get_weights()
    copies = np.bincount(maps[-1], minlength=old_dense)
    model.get_layer("emotion").set_weights([out_kernel[maps[-1]] / copies[maps[-1]][:, None], out_bias])
    return model
