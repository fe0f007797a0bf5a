"""How many threads numpy's bundled OpenBLAS uses, changed at run time.

The captioner's matmuls are small (25 x 512 per time step); on a busy 2-core machine OpenBLAS
threads that wait for each other make them up to ~80x slower than one thread. numpy wheels
bundle `scipy_openblas`, whose `*_set_num_threads*` symbols we call through ctypes; with any
other BLAS these functions do nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


@cache
def _openblas_functions():
    """(set, get) ctypes functions of the OpenBLAS bundled with numpy, or None."""
    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for library_path in sorted(folder.glob("*openblas*.so*")):
        library = ctypes.CDLL(str(library_path))
        for set_name, get_name in _SYMBOLS:
            if hasattr(library, set_name) and hasattr(library, get_name):
                setter, getter = getattr(library, set_name), getattr(library, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    logger.debug("no bundled OpenBLAS found; BLAS thread count left alone")
    return None


def get_blas_threads() -> int | None:
    """Threads numpy's OpenBLAS uses, or None when it cannot be told."""
    functions = _openblas_functions()
    return None if functions is None else int(functions[1]())


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Run the body with numpy's OpenBLAS limited to `count` threads, then restore."""
    functions = _openblas_functions()
    if functions is None:
        yield
        return
    setter, getter = functions
    previous = getter()
    setter(count)
    try:
        yield
    finally:
        setter(previous)
