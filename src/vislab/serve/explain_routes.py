"""Explain a photo, fool the classifier, visualize a class: routes over `vislab.explain`.

Quick answers (top-5, vanilla saliency) run on the worker pool and are awaited; the slower
methods, the fooling attack and class visualization are jobs that report progress and stop
when cancelled.
"""

from __future__ import annotations

import torch
from fastapi import APIRouter, Request, UploadFile
from pydantic import BaseModel, Field

from vislab.backbones.classifier import ImageClassifier
from vislab.class_names import short_name
from vislab.datasets.sample_photos import SAMPLE_PHOTOS
from vislab.explain import create_class_visualization, fool_image
from vislab.explain.attribution import attribute
from vislab.explain.runs import SALIENCY_METHODS
from vislab.explain.saliency import top_class_saliency
from vislab.serve.lab import Lab
from vislab.serve.pictures import png_data_url, saliency_overlay
from vislab.serve.uploads import MAX_UPLOAD_BYTES

router = APIRouter(prefix="/api")
FOOL_CHUNK = 5  # gradient steps between two progress reports


def grad_cam(X: torch.Tensor, y: torch.Tensor, classifier: ImageClassifier) -> torch.Tensor:
    """Grad-CAM at the backbone's own layer (vislab.explain.attribution): (N, H, W)."""
    return attribute(classifier, X, y, "gradcam").maps


# The methods computed after the quick vanilla map, each shown as soon as it is done.
SLOW_METHODS = {name: f for name, f in SALIENCY_METHODS.items() if name != "vanilla"}
SLOW_METHODS["grad-cam"] = grad_cam


class ImageRequest(BaseModel):
    model: str = "efficientnet_lite0"
    image: str = "sample:chelsea"


class FoolRequest(ImageRequest):
    target: str = Field(min_length=1, max_length=100)
    max_iterations: int = Field(100, ge=1, le=500)


class ClassRequest(BaseModel):
    model: str = "efficientnet_lite0"
    target: str = Field(min_length=1, max_length=100)
    iterations: int = Field(100, ge=1, le=500)
    seed: int = Field(0, ge=0, le=2**31 - 1)


def _lab(request: Request) -> Lab:
    return request.app.state.lab


def top5(classifier: ImageClassifier, X: torch.Tensor) -> list[dict]:
    """X: (1, C, H, W) -> the five most probable classes as {index, name, probability}."""
    with torch.no_grad():
        return ranked(classifier, classifier(X))


def ranked(classifier: ImageClassifier, scores: torch.Tensor) -> list[dict]:
    """scores: (1, K) -> the five most probable classes as {index, name, probability}."""
    probabilities = scores.detach().softmax(dim=1)[0]
    values, indices = probabilities.topk(min(5, len(probabilities)))
    return [
        {"index": int(i), "name": short_name(classifier.class_names[i]), "probability": float(p)}
        for p, i in zip(values, indices, strict=True)
    ]


def _input(lab: Lab, model: str, image: str) -> tuple[ImageClassifier, torch.Tensor]:
    classifier = lab.classifier(model)
    return classifier, classifier.preprocess(lab.images.get(image))


def predict(lab: Lab, model: str, image: str) -> dict:
    classifier, X = _input(lab, model, image)
    return {"top5": top5(classifier, X), "input": png_data_url(classifier.deprocess(X, False))}


def vanilla_saliency(lab: Lab, model: str, image: str) -> dict:
    """Top-5 and the vanilla saliency map of the top class over the model's input."""
    classifier, X = _input(lab, model, image)
    maps, scores = top_class_saliency(X, classifier)  # (1, H, W), (1, K): one forward pass
    predictions = ranked(classifier, scores)
    photo = classifier.deprocess(X, False)
    return {
        "top5": predictions,
        "input": png_data_url(photo),
        "target": predictions[0]["name"],
        "maps": {"vanilla": png_data_url(saliency_overlay(photo, maps[0].numpy()))},
    }


def slow_saliency(lab: Lab, model: str, image: str, job) -> dict:
    """The other saliency methods, one at a time, each shown as soon as it is done."""
    classifier, X = _input(lab, model, image)
    target = top5(classifier, X)[0]["index"]
    photo = classifier.deprocess(X, False)
    maps = {}
    for done, (method, compute) in enumerate(SLOW_METHODS.items()):
        job.report(done, len(SLOW_METHODS), f"computing {method}", maps=dict(maps))
        saliency = compute(X, torch.tensor([target]), classifier)  # (1, H, W)
        maps[method] = png_data_url(saliency_overlay(photo, saliency[0].numpy()))
    return {"maps": maps}


def fool(lab: Lab, request: FoolRequest, job) -> dict:
    """Normalised-gradient ascent (the course's attack) in chunks, reporting the prediction."""
    classifier, X = _input(lab, request.model, request.image)
    target = classifier.class_index(request.target)
    before = top5(classifier, X)
    current, steps, success = X, 0, False
    while not success and steps < request.max_iterations:
        chunk = min(FOOL_CHUNK, request.max_iterations - steps)
        result = fool_image(current, target, classifier, max_iterations=chunk)
        current, success = result.image, result.success
        steps += result.iterations
        now = top5(classifier, current)[0]["name"]
        job.report(steps, request.max_iterations, f"step {steps}: the model says {now}")
    difference = current - X
    change = float((classifier.to_pixels(current) - classifier.to_pixels(X)).abs().max())
    return {
        "success": success,
        "iterations": steps,
        "target": short_name(classifier.class_names[target]),
        "before": before,
        "after": top5(classifier, current),
        "original": png_data_url(classifier.deprocess(X, False)),
        "fooling": png_data_url(classifier.deprocess(current, False)),
        # Around mid-grey: deprocess adds the mean back to the (scaled) difference.
        "difference": png_data_url(classifier.deprocess(10 * difference, False)),
        "max_pixel_change": round(change * 255, 2),
    }


def visualize_class(lab: Lab, request: ClassRequest, job) -> dict:
    classifier = lab.classifier(request.model)
    target = classifier.class_index(request.target)
    show_every = max(1, request.iterations // 20)

    def snapshot(iteration, image) -> None:
        job.report(iteration, request.iterations, f"step {iteration}", image=png_data_url(image))

    result = create_class_visualization(
        target,
        classifier,
        num_iterations=request.iterations,
        seed=request.seed,
        show_every=show_every,
        on_snapshot=snapshot,
    )
    return {
        "image": png_data_url(result.image),
        "target": short_name(classifier.class_names[target]),
        "after": top5(classifier, result.tensor),
    }


@router.get("/classes")
async def classes(request: Request, model: str = "efficientnet_lite0") -> dict:
    lab = _lab(request)
    classifier = await lab.pool.run(lab.classifier, model)
    return {"model": model, "names": [short_name(n) for n in classifier.class_names]}


@router.post("/images")
async def upload_image(request: Request, file: UploadFile) -> dict:
    lab = _lab(request)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    reference = await lab.pool.run(lab.images.add, data)
    return {"image": reference}


@router.post("/predict")
async def predict_route(request: Request, body: ImageRequest) -> dict:
    return await _lab(request).pool.run(predict, _lab(request), body.model, body.image)


@router.post("/saliency")
async def saliency_route(request: Request, body: ImageRequest) -> dict:
    return await _lab(request).pool.run(vanilla_saliency, _lab(request), body.model, body.image)


@router.post("/jobs/saliency")
async def saliency_job(request: Request, body: ImageRequest) -> dict:
    lab = _lab(request)
    job = lab.jobs.start("saliency", lambda j: slow_saliency(lab, body.model, body.image, j))
    return job.snapshot()


@router.post("/jobs/fool")
async def fool_job(request: Request, body: FoolRequest) -> dict:
    lab = _lab(request)
    return lab.jobs.start("fool", lambda j: fool(lab, body, j)).snapshot()


@router.post("/jobs/class")
async def class_job(request: Request, body: ClassRequest) -> dict:
    lab = _lab(request)
    return lab.jobs.start("class", lambda j: visualize_class(lab, body, j)).snapshot()


def explain_status() -> dict:
    return {"samples": list(SAMPLE_PHOTOS), "methods": ["vanilla", *SLOW_METHODS]}
