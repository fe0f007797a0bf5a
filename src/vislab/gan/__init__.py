"""GANs from the course: vanilla, least-squares and DCGAN, trained for real and measured.

The course's contract (names and signatures of `cs231n/gan_pytorch.py`) is re-exported
here; `train_gan` is the checkpointed, resumable, DDP-aware run behind `vislab gan train`.
"""

from vislab.gan.checkpoints import load_checkpoint, load_generator
from vislab.gan.data import NUM_TRAIN, NUM_VAL, ChunkSampler, TensorBatches, load_gan_images
from vislab.gan.images import deprocess_img, image_grid, preprocess_img, show_images
from vislab.gan.losses import (
    bce_loss,
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    ls_discriminator_loss,
    ls_generator_loss,
)
from vislab.gan.models import (
    NOISE_DIM,
    Flatten,
    Unflatten,
    build_dc_classifier,
    build_dc_generator,
    count_params,
    discriminator,
    generator,
    initialize_weights,
    sample_noise,
)
from vislab.gan.registry import LOSSES, MODELS, GanConfig, build_models, loss_pair
from vislab.gan.resumable import GanRun, TrainingDivergedError, train_gan
from vislab.gan.training import gan_step, get_optimizer, run_a_gan

__all__ = [
    "LOSSES",
    "MODELS",
    "NOISE_DIM",
    "NUM_TRAIN",
    "NUM_VAL",
    "ChunkSampler",
    "Flatten",
    "GanConfig",
    "GanRun",
    "TensorBatches",
    "TrainingDivergedError",
    "Unflatten",
    "bce_loss",
    "build_dc_classifier",
    "build_dc_generator",
    "build_models",
    "count_params",
    "deprocess_img",
    "discriminator",
    "discriminator_loss",
    "gan_step",
    "generator",
    "generator_loss",
    "get_optimizer",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "image_grid",
    "initialize_weights",
    "load_checkpoint",
    "load_gan_images",
    "load_generator",
    "loss_pair",
    "ls_discriminator_loss",
    "ls_generator_loss",
    "preprocess_img",
    "run_a_gan",
    "sample_noise",
    "show_images",
    "train_gan",
]
