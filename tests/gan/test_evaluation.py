"""FID with its interval, KID, precision/recall/density/coverage and memorisation, on
feature sets with known answers (identical, disjoint, a shifted Gaussian), and prdc as a peer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.errors import InvalidInputError
from vislab.gan.evaluation import (
    FEATURE_SPACE,
    FashionMNISTFeatures,
    SampleFeatures,
    evaluate_features,
    extract_features,
    fid_with_interval,
    frechet_distance,
    kernel_distance,
    memorisation_check,
    score_features,
)
from vislab.gan.prdc import nearest_distances, precision_recall_density_coverage


def gaussian(count, dim=8, seed=0, shift=0.0):
    return torch.randn(count, dim, generator=torch.Generator().manual_seed(seed)) + shift


def test_identical_sets_score_perfectly():
    x = gaussian(300)
    assert abs(frechet_distance(x, x.clone())) < 1e-6
    fid = fid_with_interval(x, x.clone(), num_bootstrap=20)
    assert abs(fid.value) < 1e-6 and fid.low <= fid.high
    # torchmetrics draws the real and the fake subset independently, so with one set twice a
    # point can sit in both and k(x, x) pulls the estimate below 0; small subsets of a larger
    # set keep that overlap to about one point per pair
    same = gaussian(2000)
    kid = kernel_distance(same, same.clone(), subsets=50, subset_size=50)
    assert kid.contains(0.0) and abs(kid.value) < 0.02
    prdc = precision_recall_density_coverage(x, x.clone())
    assert prdc.precision == prdc.recall == prdc.coverage == 1.0
    assert prdc.density == pytest.approx(1.0, abs=0.25)


def test_disjoint_sets_score_worst():
    real, fake = gaussian(300, seed=1), gaussian(300, seed=2, shift=20.0)
    prdc = precision_recall_density_coverage(real, fake)
    assert prdc.precision == prdc.recall == prdc.density == prdc.coverage == 0.0
    kid = kernel_distance(real, fake, subsets=20, subset_size=100)
    assert kid.low > 0
    fid = fid_with_interval(real, fake, num_bootstrap=20)
    assert fid.low > 8 * 20.0**2 * 0.9  # ||mu_r - mu_f||^2 = D * 20^2


def test_shifted_gaussian_matches_the_closed_form():
    shift = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0, 0.0, 0.0, -1.0])  # ||shift||^2 = 15.25
    x = gaussian(2000)
    # the same samples moved: equal covariances exactly, FID = ||mu1 - mu2||^2
    assert frechet_distance(x, x + shift) == pytest.approx(15.25, rel=1e-6)
    # independent samples of N(0, I) and N(shift, I): equal covariances up to sampling noise
    fid = fid_with_interval(x, gaussian(2000, seed=5) + shift, num_bootstrap=50)
    assert fid.value == pytest.approx(15.25, abs=0.6)
    assert fid.contains(15.25)


def test_bootstrap_interval_narrows_with_more_samples():
    shift = torch.full((8,), 0.5)
    small = fid_with_interval(gaussian(200), gaussian(200, seed=3) + shift, num_bootstrap=40)
    large = fid_with_interval(gaussian(3000), gaussian(3000, seed=3) + shift, num_bootstrap=40)
    assert large.high - large.low < 0.5 * (small.high - small.low)


def test_kid_of_one_distribution_holds_zero_and_is_seeded():
    real, other = gaussian(1000, seed=7), gaussian(1000, seed=8)
    first = kernel_distance(real, other, subsets=30, subset_size=200, seed=3)
    assert first.contains(0.0)
    assert first == kernel_distance(real, other, subsets=30, subset_size=200, seed=3)
    state = torch.get_rng_state()
    kernel_distance(real, other, subsets=5, subset_size=50)
    assert torch.equal(state, torch.get_rng_state())  # the global RNG is left alone


def test_prdc_agrees_with_the_reference_package():
    from prdc import compute_prdc

    real, fake = gaussian(400, dim=6, seed=11), gaussian(300, dim=6, seed=12, shift=0.7)
    ours = precision_recall_density_coverage(real, fake, nearest_k=5, chunk_size=64)
    theirs = compute_prdc(real.numpy(), fake.numpy(), nearest_k=5)
    for name in ("precision", "recall", "density", "coverage"):
        assert getattr(ours, name) == pytest.approx(float(theirs[name]), abs=1e-6), name


def test_nearest_distances_match_brute_force():
    queries, references = gaussian(37, seed=1), gaussian(50, seed=2)
    distances, indices = nearest_distances(queries, references, k=3, chunk_size=8)
    full = torch.cdist(queries, references)
    expected, where = full.sort(dim=1)
    assert torch.allclose(distances, expected[:, :3]) and torch.equal(indices, where[:, :3])
    own, _ = nearest_distances(references, references, k=1, exclude_self=True, chunk_size=7)
    full = torch.cdist(references, references).fill_diagonal_(float("inf"))
    assert torch.allclose(own[:, 0], full.min(dim=1).values)
    with pytest.raises(InvalidInputError, match="nearest neighbours"):
        nearest_distances(queries, references[:2], k=2, exclude_self=True)


def test_memorised_samples_are_found():
    train, test = gaussian(500, seed=1), gaussian(200, seed=2)
    copies = train[[3, 99, 250]] + 1e-4
    check = memorisation_check(copies, train, test)
    assert check.neighbours[:, 0].tolist() == [3, 99, 250]
    assert check.sample_distances.max() < 1e-3 and check.closer_than_test() == 1.0
    fresh = memorisation_check(gaussian(200, seed=3), train, test)
    assert 0.0 <= fresh.closer_than_test() <= 0.2


def features(vectors, seed=0):
    rng = np.random.default_rng(seed)
    return SampleFeatures(
        vectors,
        torch.from_numpy(rng.integers(0, 10, len(vectors))),
        torch.from_numpy(rng.uniform(0.5, 1.0, len(vectors))).float(),
    )


def test_evaluation_table_puts_each_metric_beside_its_floor():
    real, held = features(gaussian(300, seed=1)), features(gaussian(300, seed=2))
    fake = features(gaussian(200, seed=3, shift=1.0))
    train = features(gaussian(400, seed=4))
    floor = score_features(real, held, num_bootstrap=10)
    result = evaluate_features(fake, real, floor, train, num_bootstrap=10, num_memorisation=50)
    assert result.samples.fid.value > result.floor.fid.value
    assert result.samples.prdc.coverage < result.floor.prdc.coverage
    rows = result.rows()
    assert rows[0][0].startswith("FID") and FEATURE_SPACE in rows[0][0]
    assert all(len(row) == 3 for row in rows) and rows[-1][1] == "200 generated vs 300 test"
    summary = result.to_dict()
    assert sum(summary["samples"]["class_histogram"].values()) == 200
    assert summary["floor"]["num_images"] == 300
    assert summary["memorisation"]["samples_checked"] == 50


def test_mismatched_feature_sets_are_refused():
    with pytest.raises(InvalidInputError, match="same D"):
        frechet_distance(gaussian(10, dim=4), gaussian(10, dim=5))
    with pytest.raises(InvalidInputError, match="at least 2"):
        kernel_distance(gaussian(1), gaussian(10))
    with pytest.raises(InvalidInputError, match="at least 2 resamples"):
        fid_with_interval(gaussian(10), gaussian(10), num_bootstrap=1)


@pytest.fixture(scope="module")
def cnn():
    from vislab.backbones import load_fmnist_cnn

    return load_fmnist_cnn()


def test_feature_network_stays_in_eval_mode(cnn):
    features = FashionMNISTFeatures(cnn)
    features.train()
    assert not features.training and not cnn.training
    assert features(torch.rand(3, 1, 28, 28)).shape == (3, FashionMNISTFeatures.num_features)


def test_cnn_features_of_identical_images_score_zero_and_inverted_images_score_high(cnn):
    images = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0)) ** 4
    same = extract_features(images, cnn, batch_size=128)
    assert torch.equal(same.vectors, extract_features(images.clone(), cnn).vectors)
    assert abs(frechet_distance(same.vectors, same.vectors.clone())) < 1e-2
    inverted = extract_features(1 - images, cnn)
    assert frechet_distance(same.vectors, inverted.vectors) > 10.0
    assert len(same.predicted) == 300 and 0.1 <= float(same.confidence.mean()) <= 1.0


@pytest.mark.slow
def test_real_against_real_fashion_mnist_sits_at_the_floor(cnn):
    from vislab.gan.data import NUM_TRAIN, load_gan_images

    train, _ = load_gan_images(split="train")
    test, _ = load_gan_images(split="test")
    real = extract_features(test[:2000], cnn)
    held_out = extract_features(train[NUM_TRAIN:][:2000], cnn)
    floor = score_features(real, held_out, num_bootstrap=20)
    assert floor.kid.contains(0.0)
    assert floor.fid.value < 5.0 and floor.fid.contains(floor.fid.value)
    for name in ("precision", "recall", "coverage"):
        assert getattr(floor.prdc, name) > 0.85, name
    assert floor.prdc.density == pytest.approx(1.0, abs=0.15)
    assert max(floor.class_histogram) < 0.15 * 2000  # the CNN sees balanced classes
