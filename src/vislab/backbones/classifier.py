"""One interface over the pretrained classifiers the explain task uses.

`ImageClassifier` wraps a network with what explaining it needs: its input size and
normalisation (`preprocess` / `deprocess`), its class names, and pooled penultimate
`features`. It is itself an `nn.Module` whose forward gives the network's logits, so it can
be passed anywhere the course passes `model`. `vislab.backbones.registry.load_backbone(name)`
builds one by name.

The contract of the explain task: its methods beyond the course (PGD, attributions, sanity
checks, faithfulness, robustness, Fourier class visualization) take an `ImageClassifier` and
read the normalisation from it, never a default; `require_classifier` says so in one sentence
to a caller who passes anything else. The course's own functions take any `nn.Module`
(`require_model`) with the course's semantics (SqueezeNet normalisation for a plain model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from vislab.class_names import class_index
from vislab.errors import InvalidInputError


class ImageClassifier(nn.Module):
    """A frozen, eval-mode classifier with its preprocessing.

    model: maps (N, C, H, W) normalised images to logits (N, K).
    mean, std: per-channel normalisation, pixel = value * std + mean with pixels in [0, 1].
    features_fn: (N, C, H, W) -> (N, F) pooled penultimate features.
    """

    def __init__(
        self,
        name: str,
        model: nn.Module,
        class_names: Sequence[str],
        input_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        features_fn: Callable[[torch.Tensor], torch.Tensor],
    ):
        super().__init__()
        if len(mean) != len(std) or len(mean) not in (1, 3):
            raise InvalidInputError("mean and std need one value per channel (1 or 3 channels)")
        self.name = name
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.class_names = tuple(class_names)
        self.input_size = int(input_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self._features_fn = features_fn
        self.eval()

    @property
    def channels(self) -> int:
        return len(self.mean)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) normalised images -> logits (N, K)."""
        return self.model(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) normalised images -> (N, F) pooled penultimate features."""
        return self._features_fn(x)

    def class_index(self, target: int | str) -> int:
        """Index of a class given as an index or a name ("stingray", "tabby cat")."""
        return class_index(target, self.class_names)

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # (1, C, 1, 1): one value per channel, broadcast over N, H, W
        mean = torch.tensor(self.mean, dtype=like.dtype, device=like.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=like.dtype, device=like.device).view(1, -1, 1, 1)
        return mean, std

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels: (N, C, H, W) in [0, 1] -> normalised model input."""
        mean, std = self._stats(pixels)
        return (pixels - mean) / std

    def to_pixels(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) normalised -> pixel values (1.0 = white; not clamped)."""
        mean, std = self._stats(x)
        return x * std + mean

    def value_range(self) -> tuple[list[float], list[float]]:
        """Per-channel (low, high) of normalised values that map to pixels in [0, 1]."""
        low = [(0.0 - m) / s for m, s in zip(self.mean, self.std, strict=True)]
        high = [(1.0 - m) / s for m, s in zip(self.mean, self.std, strict=True)]
        return low, high

    def preprocess(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        """A PIL image (or HxWx3 uint8 array) -> (1, C, S, S) normalised, S = input_size.

        Resizes the shorter side to S and crops the centre square (the usual evaluation crop);
        grayscale models convert the image to one channel first.
        """
        if isinstance(image, np.ndarray):
            image = Image.fromarray(np.asarray(image, dtype=np.uint8))
        if not isinstance(image, Image.Image):
            raise InvalidInputError(f"expected a PIL image, got {type(image).__name__}")
        image = image.convert("L" if self.channels == 1 else "RGB")
        size = self.input_size
        scale = size / min(image.size)
        width, height = (
            max(size, round(image.width * scale)),
            max(size, round(image.height * scale)),
        )
        image = image.resize((width, height), Image.Resampling.BILINEAR)
        left, top = (width - size) // 2, (height - size) // 2
        image = image.crop((left, top, left + size, top + size))
        # (S, S, C): a grayscale image has no channel axis of its own
        array = np.asarray(image, dtype=np.float32).reshape(size, size, self.channels) / 255.0
        pixels = torch.from_numpy(array).permute(2, 0, 1)[None]  # (1, C, S, S)
        return self.normalise(pixels).to(self.device)

    def deprocess(self, x: torch.Tensor, should_rescale: bool = True) -> Image.Image:
        """x: (1, C, H, W) or (C, H, W) normalised -> PIL image.

        should_rescale stretches the pixel values to fill [0, 1] (as the course's `rescale`);
        otherwise they are clamped to [0, 1].
        """
        x = x.detach().float().cpu()
        if x.ndim == 3:
            x = x[None]
        pixels = self.to_pixels(x)[0]
        if should_rescale:
            low, high = pixels.min(), pixels.max()
            pixels = (pixels - low) / (high - low).clamp_min(1e-12)
        array = (pixels.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()  # (H, W, C)
        return Image.fromarray(array[..., 0] if self.channels == 1 else array)


def require_classifier(model: object, caller: str) -> ImageClassifier:
    """`model` itself when it is an ImageClassifier, else InvalidInputError naming `caller`."""
    if isinstance(model, ImageClassifier):
        return model
    raise InvalidInputError(
        f"{caller} needs a vislab ImageClassifier (the network with its normalisation, input "
        f"size and class names: load_backbone(name) or ImageClassifier(...)), got "
        f"{type(model).__name__}"
    )


def require_model(model: object, caller: str) -> nn.Module:
    """`model` when it is a torch module (the course's `model`), else InvalidInputError."""
    if isinstance(model, nn.Module):
        return model
    raise InvalidInputError(
        f"{caller} needs a torch model (an nn.Module mapping (N, C, H, W) images to (N, K) "
        f"scores), got {type(model).__name__}"
    )
