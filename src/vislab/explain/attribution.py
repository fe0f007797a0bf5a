"""Attribution methods beyond the course, with captum as the engine: one call, `attribute`.

    saliency               |d score_y / dx| (captum Saliency; equals compute_saliency_maps)
    gradcam                ReLU(sum_k mean_hw(d score_y / dA_k) A_k) at a conv layer, upsampled
    guided-gradcam         Grad-CAM times guided backpropagation (Springenberg et al. 2015)
    occlusion              score drop when a square patch is set to the baseline (Zeiler 2014)
    smoothgrad, vargrad    mean / variance of |gradients| of noisy copies (captum NoiseTunnel)
    integrated-gradients   path integral of gradients, midpoint rule, with convergence delta

Every method returns a map (N, H, W) where larger means more important: the channel-max of
the absolute attribution for gradient methods (as the course's saliency), the CAM itself for
Grad-CAM, the channel-mean score drop for occlusion. Models come as ImageClassifiers (the
contract); their Grad-CAM layer is `cam_layer(classifier)`.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from captum.attr import (
    GuidedGradCam,
    LayerAttribution,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import nn

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain.integrated_gradients import integrated_gradients_with_delta
from vislab.explain.smoothgrad import smoothgrad_saliency_maps
from vislab.explain.targets import Target, target_tensor

METHODS = (
    "saliency",
    "gradcam",
    "guided-gradcam",
    "occlusion",
    "smoothgrad",
    "vargrad",
    "integrated-gradients",
)


class Attribution(NamedTuple):
    maps: torch.Tensor  # (N, H, W) importance, larger = more important
    attributions: torch.Tensor  # (N, C, H, W) captum's raw output (Grad-CAM: (N, 1, H, W))
    delta: torch.Tensor | None  # (N,) IG convergence delta: sum(attr) - (f(x) - f(baseline))


def cam_layer(classifier: ImageClassifier) -> nn.Module:
    """The Grad-CAM layer: the last map with spatial extent before pooling, per backbone.

    EfficientNet-Lite: the head's 1280-channel BatchNorm output (7x7 at 224; the ReLU6 after it
    is one module shared with the stem, so it cannot be hooked alone). SqueezeNet: the last
    Fire module (13x13). Fashion-MNIST CNN: the third block's ReLU (7x7, before its pooling to
    3x3). Any other classifier: its last Conv2d.
    """
    model = classifier.model
    if classifier.name.startswith("efficientnet_lite"):
        return model._bn1
    if classifier.name == "squeezenet1_1":
        return model.features[-1]
    if classifier.name == "fmnist_cnn":
        return model.body[-1][2]
    convs = [module for module in model.modules() if isinstance(module, nn.Conv2d)]
    if not convs:
        raise InvalidInputError(f"{classifier.name} has no Conv2d layer for Grad-CAM")
    return convs[-1]


class _GuidedReLU6(nn.ReLU):
    """ReLU6 that captum's guided backpropagation recognises (it hooks nn.ReLU modules only);
    the forward is ReLU6's, so the gradient it passes on is masked by 0 < x < 6."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x)


@contextlib.contextmanager
def _guided_relus(model: nn.Module) -> Iterator[None]:
    """Within the block: ReLUs not in place (backward hooks reject in-place outputs) and
    ReLU6s replaced by _GuidedReLU6; restored afterwards."""
    swapped, inplace = [], []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.ReLU6):
                setattr(parent, name, _GuidedReLU6())
                swapped.append((parent, name, child))
            elif isinstance(child, nn.ReLU) and child.inplace:
                child.inplace = False
                inplace.append(child)
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
        for child in inplace:
            child.inplace = True


def _occlusion_window(size: int) -> tuple[int, int]:
    """A patch of about 1/7 of the side (32 px at 224, 4 px at 28), side by side: 49 forward
    passes per image (half-overlapping patches took 3.5x longer on Lite0 for a smoother map)."""
    window = max(2, round(size / 7))
    return window, window


def attribute(
    classifier: ImageClassifier,
    X: torch.Tensor,
    targets: torch.Tensor | Sequence[Target] | Target,
    method: str,
    num_samples: int = 16,
    noise_level: float = 0.15,
    num_steps: int = 32,
    batch_size: int = 32,
    seed: int = 0,
) -> Attribution:
    """Attributions of targets (N,) for X (N, C, H, W) normalised images; X is untouched.

    num_samples, noise_level: SmoothGrad/VarGrad (sigma = noise_level * (max x - min x), per
    image for SmoothGrad, over the batch for VarGrad);
    num_steps: IG's midpoint rule (baseline: black, the pixel value 0); batch_size bounds the
    images captum pushes through the model at once; seed fixes the noise.
    """
    classifier = require_classifier(classifier, "attribute")
    if method not in METHODS:
        raise InvalidInputError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if X.ndim != 4 or X.shape[1] != classifier.channels:
        raise InvalidInputError(
            f"expected images (N, {classifier.channels}, H, W), got shape {tuple(X.shape)}"
        )
    if min(num_samples, num_steps, batch_size) < 1 or noise_level < 0:
        raise InvalidInputError("num_samples, num_steps and batch_size must be at least 1")
    y = target_tensor(targets, classifier, len(X)).to(X.device)
    X = X.detach().clone().requires_grad_(True)
    delta = None
    if method == "saliency":
        raw = Saliency(classifier).attribute(X, target=y)
    elif method == "gradcam":
        layer = LayerGradCam(classifier, cam_layer(classifier))
        cam = layer.attribute(X, target=y, relu_attributions=True)
        raw = LayerAttribution.interpolate(cam, tuple(X.shape[2:]), interpolate_mode="bilinear")
    elif method == "guided-gradcam":
        with _guided_relus(classifier.model), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Setting backward hooks on ReLU")
            raw = GuidedGradCam(classifier, cam_layer(classifier)).attribute(X, target=y)
    elif method == "occlusion":
        window, stride = _occlusion_window(X.shape[-1])
        black = classifier.normalise(torch.zeros_like(X[:1]))  # (1, C, H, W)
        raw = Occlusion(classifier).attribute(
            X,
            sliding_window_shapes=(X.shape[1], window, window),
            strides=(X.shape[1], stride, stride),
            target=y,
            baselines=black,
            perturbations_per_eval=max(1, batch_size // len(X)),
        )
    elif method == "smoothgrad":
        generator = torch.Generator().manual_seed(seed)
        maps = smoothgrad_saliency_maps(
            X, y, classifier, num_samples, noise_level, batch_size, generator
        )
        raw = maps[:, None]  # (N, 1, H, W)
    elif method == "vargrad":
        sigma = noise_level * float(X.detach().max() - X.detach().min())
        with torch.random.fork_rng(devices=[]):  # captum draws from the global generator
            torch.manual_seed(seed)
            raw = NoiseTunnel(Saliency(classifier)).attribute(
                X,
                nt_type="vargrad",
                nt_samples=num_samples,
                nt_samples_batch_size=max(1, batch_size // len(X)),
                stdevs=sigma,
                target=y,
                abs=False,  # the variance of the signed gradient (Adebayo et al. 2018)
            )
    else:
        black = classifier.normalise(torch.zeros_like(X))
        raw, delta = integrated_gradients_with_delta(X, y, classifier, black, num_steps, batch_size)
    return Attribution(_to_maps(raw.detach(), method), raw.detach(), delta)


def _to_maps(raw: torch.Tensor, method: str) -> torch.Tensor:
    """Raw attributions (N, C, H, W) -> importance maps (N, H, W)."""
    if method == "gradcam":
        return raw[:, 0]
    if method == "occlusion":
        return raw.mean(dim=1)
    return raw.abs().amax(dim=1)


def occlusion_evaluations(size: int) -> int:
    """Forward passes per image that occlusion needs at this image size (its cost)."""
    window, stride = _occlusion_window(size)
    return (math.floor((size - window) / stride) + 1) ** 2 + 1
