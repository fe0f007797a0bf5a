"""Class names below backbones and datasets: ImageNet's index order, lookup by any synonym."""

from __future__ import annotations

import pytest

from vislab.class_names import FASHION_MNIST_CLASSES, class_index, imagenet_class_names, short_name
from vislab.errors import InvalidInputError


def test_class_names_are_in_the_standard_order():
    names = imagenet_class_names()
    assert len(names) == 1000
    assert names[0].startswith("tench") and names[6] == "stingray"
    assert names[76] == "tarantula" and names[78] == "tick"
    assert names[187] == "Yorkshire terrier" and short_name(names[366]) == "gorilla"
    assert short_name(names[281]) == "tabby" and names[967] == "espresso"


def test_class_index_accepts_indices_synonyms_and_clean_names():
    names = imagenet_class_names()
    assert (
        class_index(76, names) == class_index("76", names) == class_index("Tarantula", names) == 76
    )
    assert class_index("tabby cat", names) == 281  # a synonym of "tabby, tabby cat"
    assert class_index("great_white_shark", names) == 2
    with pytest.raises(InvalidInputError, match="did you mean"):
        class_index("shark", names)
    with pytest.raises(InvalidInputError, match="outside"):
        class_index(1000, names)


def test_fashion_mnist_names_are_in_label_order_and_looked_up_by_name():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "t-shirt" and FASHION_MNIST_CLASSES[9] == "ankle boot"
    assert class_index("Ankle-Boot", FASHION_MNIST_CLASSES) == 9
    assert class_index("sneaker", FASHION_MNIST_CLASSES) == 7
