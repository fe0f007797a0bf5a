"""Class visualization (Simonyan et al. 2014; Yosinski et al. 2015), as in the course.

    I* = argmax_I s_y(I) - l2_reg * ||I||^2

by normalised gradient ascent from noise, with random jitter, clamping to the valid pixel
range per channel and a periodic blur as implicit regularisers. Works on any input size: the
jitter and the step scale with the image (the course's values are for 3x224x224).
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

import torch
from PIL import Image
from torch import nn
from tqdm import tqdm

from vislab.backbones.classifier import ImageClassifier, require_model
from vislab.explain.image_transforms import (
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    blur_image,
    deprocess,
    jitter,
)
from vislab.explain.targets import Target, target_index

COURSE_NUMEL = 3 * 224 * 224  # the course's defaults are tuned for this input
SMALL_INPUT = 64  # below this height the blur defaults change (see create_class_visualization)


class ClassVisualization(NamedTuple):
    image: Image.Image  # final image (rescaled to the full range, as the course shows it)
    snapshots: list[tuple[int, Image.Image]]  # (iteration, image) pairs along the way
    tensor: torch.Tensor  # (1, C, H, W) final image in the model's input space


def class_visualization_update_step(
    img: torch.Tensor, model: nn.Module, target_y: int, l2_reg: float, learning_rate: float
) -> None:
    """One step of gradient ascent on s_y(img) - l2_reg ||img||^2, in place on img (1, C, H, W).

    The gradient is normalised to unit L2 norm, so learning_rate is the step's L2 length.
    img must require grad.
    """
    model = require_model(model, "class_visualization_update_step")
    objective = model(img)[0, target_y] - l2_reg * img.square().sum()
    objective.backward()
    with torch.no_grad():
        g = img.grad
        img += learning_rate * g / g.norm().clamp_min(1e-12)
    img.grad.zero_()


def _input_shape_and_range(model: nn.Module) -> tuple[tuple[int, int, int], list, list]:
    """(C, H, W) and the per-channel clamping range in the model's input space."""
    if isinstance(model, ImageClassifier):
        low, high = model.value_range()
        return (len(low), model.input_size, model.input_size), low, high
    low = (-SQUEEZENET_MEAN / SQUEEZENET_STD).tolist()
    high = ((1.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD).tolist()
    return (3, 224, 224), low, high


def _to_image(model: nn.Module, img: torch.Tensor) -> Image.Image:
    if isinstance(model, ImageClassifier):
        return model.deprocess(img.detach().cpu())
    return deprocess(img.detach().cpu())


def create_class_visualization(
    target_y: Target, model: nn.Module, dtype: torch.dtype = torch.float32, **kwargs
) -> ClassVisualization:
    """Generate an image that maximises the score of target_y (an index or a class name).

    Keyword arguments (course defaults): l2_reg 1e-3, learning_rate 25 (scaled by
    sqrt(C*H*W / 3*224*224) for other sizes), num_iterations 100, blur_every 10 (5 below
    64x64), blur_sigma 0.5 (0.7 below 64x64), max_jitter 16 (scaled by H / 224),
    show_every 25 (snapshot period), seed 0, progress False, on_snapshot None (called as
    on_snapshot(iteration, image) at every snapshot; an exception it raises stops the run).
    The input shape and clamping range come from the model when it is an ImageClassifier,
    else 3x224x224 with SqueezeNet normalisation.
    """
    model = require_model(model, "create_class_visualization")
    (C, H, W), low, high = _input_shape_and_range(model)
    scale = math.sqrt(C * H * W / COURSE_NUMEL)
    l2_reg = kwargs.pop("l2_reg", 1e-3)
    learning_rate = kwargs.pop("learning_rate", 25 * scale)
    num_iterations = kwargs.pop("num_iterations", 100)
    # Small inputs (Fashion-MNIST's 28x28) look far cleaner with more blur; chosen by eye.
    small = H < SMALL_INPUT
    blur_every = kwargs.pop("blur_every", 5 if small else 10)
    blur_sigma = kwargs.pop("blur_sigma", 0.7 if small else 0.5)
    max_jitter = kwargs.pop("max_jitter", max(1, round(16 * H / 224)))
    show_every = kwargs.pop("show_every", 25)
    seed = kwargs.pop("seed", 0)
    progress = kwargs.pop("progress", False)
    on_snapshot = kwargs.pop("on_snapshot", None)
    if kwargs:
        raise TypeError(f"unexpected keyword arguments: {', '.join(kwargs)}")
    target = target_index(target_y, model)
    model.to(dtype)
    device = next(model.parameters()).device
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    img = torch.randn(1, C, H, W, generator=generator).to(device=device, dtype=dtype)
    img.requires_grad_(True)
    snapshots = []
    for t in tqdm(range(num_iterations), desc="class visualization", disable=not progress):
        ox, oy = rng.randint(0, max_jitter), rng.randint(0, max_jitter)
        img.data.copy_(jitter(img.data, ox, oy))
        class_visualization_update_step(img, model, target, l2_reg, learning_rate)
        img.data.copy_(jitter(img.data, -ox, -oy))
        for c in range(C):
            img.data[:, c].clamp_(min=low[c], max=high[c])
        if t % blur_every == 0:
            blur_image(img.data, sigma=blur_sigma)
        if t == 0 or (t + 1) % show_every == 0 or t == num_iterations - 1:
            snapshots.append((t + 1, _to_image(model, img)))
            if on_snapshot is not None:
                on_snapshot(*snapshots[-1])
    final = img.detach()
    return ClassVisualization(_to_image(model, final), snapshots, final)
