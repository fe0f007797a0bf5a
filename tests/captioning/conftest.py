"""Every captioning test runs numpy on one OpenBLAS thread (tiny COCO folders: tests/conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_blas_thread(one_blas_thread):
    """The fixture of tests/conftest.py, for every test in this folder."""
