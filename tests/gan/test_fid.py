"""FID in the Fashion-MNIST CNN's feature space (torchmetrics) and the classifier statistics."""

from __future__ import annotations

import pytest
import torch

from vislab.backbones import load_fmnist_cnn
from vislab.errors import InvalidInputError
from vislab.gan.fid import FID_LABEL, FashionMNISTFeatures, measure_quality


@pytest.fixture(scope="module")
def cnn():
    return load_fmnist_cnn()


def test_feature_extractor_stays_in_eval_mode(cnn):
    features = FashionMNISTFeatures(cnn)
    features.train()
    assert not features.training and not cnn.training
    assert features(torch.rand(3, 1, 28, 28)).shape == (3, FashionMNISTFeatures.num_features)


def test_identical_sets_score_zero_and_noise_scores_high(cnn):
    images = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0)) ** 4
    same = measure_quality(images, images.clone(), cnn, batch_size=128)
    assert abs(same.fid) < 1e-2
    shifted = measure_quality(1 - images, images, cnn)
    assert shifted.fid > 10 * max(same.fid, 1.0)
    assert sum(same.class_histogram) == 300 and len(same.class_histogram) == 10
    assert 0.1 <= same.mean_confidence <= 1.0
    assert same.rows()[0][0] == FID_LABEL == "FID (Fashion-MNIST CNN features)"


def test_too_few_images_is_refused(cnn):
    with pytest.raises(InvalidInputError, match="at least 2"):
        measure_quality(torch.rand(1, 1, 28, 28), torch.rand(5, 1, 28, 28), cnn)
