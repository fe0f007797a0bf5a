"""Explain image classifiers: saliency maps, fooling images and class visualization.

The course's functions keep their names and semantics. Added beside them: captum's
attributions behind `attribute` (Grad-CAM, Guided Grad-CAM, occlusion, SmoothGrad, VarGrad,
Integrated Gradients), sanity checks, deletion/insertion faithfulness, targeted and untargeted
PGD with robustness curves, and a Fourier-domain class visualization. Any function that takes
a class index also takes a class name when the model is an ImageClassifier (`load_classifier`).
"""

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.registry import load_backbone as load_classifier
from vislab.datasets.imagenet import load_imagenet_val
from vislab.explain.attribution import Attribution, attribute
from vislab.explain.class_visualization import (
    ClassVisualization,
    class_visualization_update_step,
    create_class_visualization,
)
from vislab.explain.faithfulness import faithfulness_table
from vislab.explain.fooling import FoolingError, FoolingResult, fool_image, make_fooling_image
from vislab.explain.fourier_visualization import fourier_class_visualization, judge_top1
from vislab.explain.image_transforms import (
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    blur_image,
    deprocess,
    jitter,
    preprocess,
    rescale,
)
from vislab.explain.integrated_gradients import (
    integrated_gradients,
    integrated_gradients_saliency_maps,
)
from vislab.explain.pgd import PGDResult, pgd_attack, untargeted_pgd_attack
from vislab.explain.robustness import robustness_curve, transfer_rate
from vislab.explain.saliency import compute_saliency_maps
from vislab.explain.sanity import cascading_randomization
from vislab.explain.smoothgrad import smoothgrad_saliency_maps

__all__ = [
    "Attribution",
    "attribute",
    "cascading_randomization",
    "faithfulness_table",
    "fourier_class_visualization",
    "judge_top1",
    "robustness_curve",
    "transfer_rate",
    "untargeted_pgd_attack",
    "SQUEEZENET_MEAN",
    "SQUEEZENET_STD",
    "ClassVisualization",
    "FoolingError",
    "FoolingResult",
    "ImageClassifier",
    "PGDResult",
    "blur_image",
    "class_visualization_update_step",
    "compute_saliency_maps",
    "create_class_visualization",
    "deprocess",
    "fool_image",
    "integrated_gradients",
    "integrated_gradients_saliency_maps",
    "jitter",
    "load_classifier",
    "load_imagenet_val",
    "make_fooling_image",
    "pgd_attack",
    "preprocess",
    "rescale",
    "smoothgrad_saliency_maps",
]
