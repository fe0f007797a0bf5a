"""The lab's routes through FastAPI's test client, on tiny classifiers and tiny runs."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.explain import compute_saliency_maps, fool_image
from vislab.explain.attribution import attribute
from vislab.gan import load_generator
from vislab.gan.images import image_grid
from vislab.gan.sampling import generate, interpolation_noise
from vislab.serve import explain_routes
from vislab.serve.uploads import MAX_UPLOAD_BYTES

from .conftest import tiny_imagenet_classifier


def decode(url: str) -> Image.Image:
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def png_bytes(size=(48, 40), seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def wait(client, job: dict, timeout: float = 60.0) -> dict:
    """Follow the job's event stream to its end; returns the last snapshot."""
    states = []
    with client.stream("GET", f"/api/jobs/{job['id']}/events", timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                states.append(json.loads(line[6:]))
    versions = [s["version"] for s in states]
    assert versions == sorted(set(versions)) and states[-1]["status"] in ("done", "failed")
    return states[-1] | {"history": states}


def test_status_says_what_is_missing_and_which_command_makes_it(tmp_path, make_client):
    client = make_client(tmp_path / "nothing-here")
    status = client.get("/api/status").json()
    assert status["gans"] == [] and status["captioners"] == []
    assert "vislab gan train" in status["missing"]["gan"]
    assert "vislab caption train" in status["missing"]["caption"]
    assert status["models"] == ["tiny"] and "chelsea" in status["samples"]
    page = client.get("/")
    assert page.status_code == 200 and "/static/lab.js" in page.text
    for path in ("/", "/static/lab.js", "/static/lab.css"):  # nothing loaded from elsewhere
        answer = client.get(path)
        assert answer.status_code == 200
        for outside in ("http:", "https:", 'src="//', 'href="//', "url(", "import "):
            assert outside not in answer.text, (path, outside)


def test_the_network_guard_refuses_a_connection_off_the_machine():
    probe = socket.socket()
    with pytest.raises(AssertionError, match="left the machine"):
        probe.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
    probe.close()


def test_catalog_finds_each_kind_and_names_them_relative(tiny_runs, make_client):
    status = make_client(tiny_runs).get("/api/status").json()
    assert status["gans"] == ["gan-fc"]
    assert status["captioners"] == ["attention-lstm", "rnn"]
    assert status["scene_sets"] == ["scenes"]
    assert status["missing"] == {}


def test_saliency_is_the_top_class_vanilla_map(tmp_path, make_client):
    client = make_client(tmp_path)
    answer = client.post("/api/saliency", json={"model": "tiny", "image": "sample:coffee"}).json()
    probabilities = [p["probability"] for p in answer["top5"]]
    assert len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True)
    assert decode(answer["input"]).size == (224, 224)  # 32 x 32, enlarged 7x
    overlay = np.asarray(decode(answer["maps"]["vanilla"]), dtype=np.float32)
    # Oracle: the course's saliency of the same input; the overlay's red follows it.
    classifier = tiny_imagenet_classifier()
    X = classifier.preprocess(client.app.state.lab.images.get("sample:coffee"))
    saliency = compute_saliency_maps(X, [answer["top5"][0]["index"]], classifier)[0].numpy()
    assert answer["top5"][0]["index"] == int(classifier(X).argmax())
    assert overlay.shape == (224, 224, 3)
    red = overlay[::7, ::7, 0]
    assert np.corrcoef(red.ravel(), saliency.ravel())[0, 1] > 0.5


def test_upload_is_checked_like_any_image_then_usable(tmp_path, make_client):
    client = make_client(tmp_path)
    reference = client.post("/api/images", files={"file": ("a.png", png_bytes())}).json()["image"]
    assert reference.startswith("upload:")
    answer = client.post("/api/predict", json={"model": "tiny", "image": reference})
    assert answer.status_code == 200 and len(answer.json()["top5"]) == 5
    bad = client.post("/api/images", files={"file": ("a.png", b"not an image at all")})
    assert bad.status_code == 400 and "not a readable image" in bad.json()["error"]
    empty = client.post("/api/images", files={"file": ("a.png", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    assert list((tmp_path / "temp0").iterdir()) == []  # uploads pass through, none stay


def test_uploads_over_the_byte_and_pixel_caps_are_refused(tmp_path, make_client):
    client = make_client(tmp_path)
    huge = client.post("/api/images", files={"file": ("a.png", b"\0" * (MAX_UPLOAD_BYTES + 1))})
    assert huge.status_code in (400, 413) and "MiB" in huge.json()["error"]
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 megapixels in a few kB
    wide = client.post("/api/images", files={"file": ("wide.png", buffer.getvalue())})
    assert wide.status_code == 400 and "8000 x 6000 pixels" in wide.json()["error"]


def test_bodies_over_the_cap_are_refused_announced_or_not(tmp_path, make_client):
    from vislab.serve.app import MAX_BODY_BYTES

    client = make_client(tmp_path)
    announced = client.post("/api/predict", content=b" " * (MAX_BODY_BYTES + 1))
    assert announced.status_code == 413 and "MiB" in announced.json()["error"]

    def chunks():  # no content-length: the cap counts what arrives
        for _ in range(MAX_BODY_BYTES // 2**20 + 2):
            yield b" " * 2**20

    streamed = client.post("/api/predict", content=chunks())
    assert streamed.status_code == 413 and "MiB" in streamed.json()["error"]


def test_bad_requests_get_one_sentence(tmp_path, make_client):
    client = make_client(tmp_path)
    cases = [
        ({"model": "tiny", "image": "../../etc/passwd"}, "neither sample:NAME nor upload:ID"),
        ({"model": "tiny", "image": "sample:nope"}, "unknown sample photo"),
        ({"model": "tiny", "image": "upload:0123456789abcdef"}, "expired"),
        ({"model": "resnet", "image": "sample:chelsea"}, "unknown model 'resnet'"),
    ]
    for body, message in cases:
        answer = client.post("/api/predict", json=body)
        assert answer.status_code == 400 and message in answer.json()["error"]
    answer = client.post("/api/jobs/fool", json={"model": "tiny", "max_iterations": 0})
    assert answer.status_code == 400 and answer.json()["error"].startswith("target:")
    assert client.get("/api/jobs/999999").status_code == 400


def test_an_unexpected_failure_is_a_500_without_a_traceback(tmp_path, make_client):
    def broken():
        raise RuntimeError("secret internals")

    client = make_client(tmp_path, backbones={"broken": broken}, raise_server_exceptions=False)
    answer = client.post("/api/predict", json={"model": "broken", "image": "sample:chelsea"})
    assert answer.status_code == 500
    assert "secret" not in answer.text and "Traceback" not in answer.text


def test_a_full_queue_answers_503_at_once(tmp_path, make_client):
    client = make_client(tmp_path, workers=1, queue_limit=1)
    lab = client.app.state.lab
    release = threading.Event()
    held = [lab.pool.submit(release.wait) for _ in range(2)]  # one running, one waiting
    try:
        answer = client.post("/api/predict", json={"model": "tiny", "image": "sample:chelsea"})
        assert answer.status_code == 503 and "busy" in answer.json()["error"]
        assert answer.headers["retry-after"] == "2"
    finally:
        release.set()
    for future in held:
        future.result(timeout=5)
    answer = client.post("/api/predict", json={"model": "tiny", "image": "sample:chelsea"})
    assert answer.status_code == 200


def test_fooling_job_reports_progress_and_reaches_the_target(tmp_path, make_client):
    client = make_client(tmp_path)
    body = {"model": "tiny", "image": "sample:chelsea", "target": "stingray"}
    end = wait(client, client.post("/api/jobs/fool", json=body).json())
    result = end["result"]
    assert end["status"] == "done" and result["success"]
    assert result["after"][0]["name"] == "stingray" and result["target"] == "stingray"
    assert result["before"][0]["name"] != "stingray"
    # Oracle: the course's attack from the same start needs the same number of steps.
    classifier = tiny_imagenet_classifier()
    X = classifier.preprocess(client.app.state.lab.images.get("sample:chelsea"))
    assert (
        fool_image(X, "stingray", classifier, max_iterations=100).iterations == result["iterations"]
    )


class Recorder:
    """Stands in for a Job: keeps every progress report."""

    def __init__(self):
        self.reports = []

    def report(self, done, total, message, **result):
        self.reports.append((done, total, message, result))


def test_fooling_reports_every_chunk_and_class_visualization_every_snapshot(tmp_path, make_client):
    lab = make_client(tmp_path).app.state.lab
    recorder = Recorder()
    body = explain_routes.FoolRequest(model="tiny", image="sample:chelsea", target="stingray")
    result = explain_routes.fool(lab, body, recorder)
    steps = [done for done, total, _, _ in recorder.reports]
    assert steps == sorted(steps) and steps[-1] == result["iterations"]
    gaps = np.diff([0, *steps])
    assert (gaps[:-1] == explain_routes.FOOL_CHUNK).all()
    assert 0 < gaps[-1] <= explain_routes.FOOL_CHUNK
    recorder = Recorder()
    body = explain_routes.ClassRequest(model="tiny", target="tarantula", iterations=40)
    explain_routes.visualize_class(lab, body, recorder)
    assert [done for done, *_ in recorder.reports] == [1, *range(2, 41, 2)]
    assert all(decode(r["image"]).size == (224, 224) for *_, r in recorder.reports)


def test_slow_saliency_job_adds_every_other_method(tmp_path, make_client):
    client = make_client(tmp_path)
    job = client.post("/api/jobs/saliency", json={"model": "tiny", "image": "sample:rocket"})
    end = wait(client, job.json())
    maps = end["result"]["maps"]
    assert set(maps) == {"smoothgrad", "integrated-gradients", "grad-cam"}
    # Oracle: Grad-CAM is vislab.explain's captum-based one, at the tiny net's last conv.
    lab = client.app.state.lab
    classifier = tiny_imagenet_classifier()
    X = classifier.preprocess(lab.images.get("sample:rocket"))
    cam = attribute(classifier, X, [int(classifier(X).argmax())], "gradcam").maps[0].numpy()
    red = np.asarray(decode(maps["grad-cam"]), dtype=np.float32)[::7, ::7, 0]
    assert cam.max() > 0 and np.corrcoef(red.ravel(), cam.ravel())[0, 1] > 0.5
    assert all(decode(url).size == (224, 224) for url in end["result"]["maps"].values())


def test_class_visualization_streams_snapshots_and_can_be_cancelled(tmp_path, make_client):
    client = make_client(tmp_path)
    body = {"model": "tiny", "target": "tarantula", "iterations": 40}
    end = wait(client, client.post("/api/jobs/class", json=body).json())
    assert end["status"] == "done" and end["result"]["target"] == "tarantula"
    assert decode(end["result"]["image"]).size == (224, 224)
    long = client.post("/api/jobs/class", json={**body, "iterations": 500}).json()
    client.delete(f"/api/jobs/{long['id']}")
    with client.stream("GET", f"/api/jobs/{long['id']}/events") as response:
        last = [json.loads(x[6:]) for x in response.iter_lines() if x.startswith("data: ")][-1]
    assert last["status"] == "cancelled" and last["done"] < 500


def test_gan_frames_are_the_generator_on_the_interpolation_line(tiny_runs, make_client):
    client = make_client(tiny_runs)
    answer = client.post("/api/gan/samples", json={"gan": "gan-fc", "seed": 3, "steps": 5})
    frames = answer.json()["frames"]
    assert len(frames) == 5 and decode(answer.json()["samples"]).size[0] >= 224
    G, config = load_generator(client.app.state.lab.catalog().gans["gan-fc"])
    expected = generate(G, interpolation_noise(config.noise_dim, rows=1, steps=5, seed=3))
    for url, image in zip(frames, expected, strict=True):
        shown = np.asarray(decode(url).resize((28, 28), Image.NEAREST))
        assert np.abs(shown.astype(int) - image_grid(image[None]).astype(int)).max() <= 1
    missing = client.post("/api/gan/samples", json={"gan": "../outside"})
    assert missing.status_code == 400 and "no GAN named" in missing.json()["error"]


def test_scene_is_composed_as_asked_and_captioned(tiny_runs, make_client):
    client = make_client(tiny_runs)
    cells = [7, None, None, None, None, None, None, None, -1]
    answer = client.post("/api/scene", json={"cells": cells, "seed": 0}).json()
    assert answer["cells"][0]["name"] == "sneaker" and answer["cells"][1] is None
    assert answer["cells"][8] is not None and decode(answer["scene"]).size == (256, 256)
    assert [c["model"] for c in answer["captions"]] == ["attention-lstm", "rnn"]
    for caption in answer["captions"]:
        assert caption["problem"] is None, caption
        assert caption["caption"] and "<" not in caption["caption"]
    grounded, plain = answer["captions"]
    assert [p["word"] for p in grounded["grounding"]] == grounded["caption"].split()
    assert all(decode(p["image"]).size == (128, 128) for p in grounded["grounding"])
    assert plain["grounding"] == []  # the flat-feature RNN has no attention to show
    again = client.post("/api/scene", json={"cells": cells, "seed": 0}).json()
    assert again == answer  # same seed, same garments, same caption
    random = client.post("/api/scene", json={"seed": 5}).json()
    assert 1 <= sum(c is not None for c in random["cells"]) <= 3
    bad = client.post("/api/scene", json={"cells": [12] + [None] * 8})
    assert bad.status_code == 400 and "cell 0" in bad.json()["error"]


def test_symlinks_out_of_the_runs_folder_are_not_followed(tiny_runs, tmp_path, make_client):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "elsewhere").symlink_to(tiny_runs, target_is_directory=True)
    (runs / "last.pt").symlink_to(tiny_runs / "gan-fc" / "last.pt")
    status = make_client(runs).get("/api/status").json()
    assert status["gans"] == [] and status["captioners"] == []


@pytest.mark.parametrize("threads", [1])
def test_pool_admits_workers_plus_queue(threads):
    from vislab.serve.jobs import ServerBusy, WorkerPool

    pool = WorkerPool(workers=threads, queue_limit=2)
    release = threading.Event()
    futures = [pool.submit(release.wait) for _ in range(3)]
    with pytest.raises(ServerBusy, match="1 workers are running and 2 requests are waiting"):
        pool.submit(release.wait)
    release.set()
    assert all(f.result(timeout=5) for f in futures)
    assert pool.submit(torch.zeros, 1).result(timeout=5).shape == (1,)
    pool.shutdown()
