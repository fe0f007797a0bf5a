"""Generate: samples from each trained GAN found, and a latent interpolation to slide along."""

from __future__ import annotations

import torch
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vislab.errors import InvalidInputError
from vislab.gan import image_grid, load_generator, sample_noise
from vislab.gan.sampling import generate, interpolation_noise
from vislab.serve.lab import Lab
from vislab.serve.pictures import png_data_url

router = APIRouter(prefix="/api/gan")
NUM_SAMPLES = 16


class GanRequest(BaseModel):
    gan: str = Field(min_length=1, max_length=300)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    steps: int = Field(11, ge=2, le=41)


def gan_samples(lab: Lab, request: GanRequest) -> dict:
    """A 4 x 4 grid of samples and `steps` frames on a straight line between two noises."""
    path = lab.catalog().gans.get(request.gan)
    if path is None:
        raise InvalidInputError(f"no GAN named {request.gan!r} in {lab.runs_dir}")
    G, config = lab.cached(("gan", path, path.stat().st_mtime_ns), lambda: load_generator(path))
    noise = sample_noise(
        NUM_SAMPLES, config.noise_dim, generator=torch.Generator().manual_seed(request.seed)
    )
    line = interpolation_noise(config.noise_dim, rows=1, steps=request.steps, seed=request.seed)
    frames = generate(G, line)  # (steps, 784) in [-1, 1]
    return {
        "gan": request.gan,
        "title": f"{config.model}-{config.loss} on {config.data}",
        "samples": png_data_url(image_grid(generate(G, noise), columns=4)),
        "frames": [png_data_url(image_grid(frame[None])) for frame in frames],
    }


@router.post("/samples")
async def samples_route(request: Request, body: GanRequest) -> dict:
    lab: Lab = request.app.state.lab
    return await lab.pool.run(gan_samples, lab, body)
