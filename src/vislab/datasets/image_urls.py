"""Images named by the URLs of the COCO url lists: http(s), `file://` or a plain path."""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)


def _read_bytes(url: str, timeout: float) -> bytes:
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    if scheme == "file":
        return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path)).read_bytes()
    return Path(url).read_bytes()


def image_from_url(url: str, timeout: float = 5.0) -> np.ndarray | None:
    """Read the image at `url` -> (H, W, 3) uint8 RGB, or None (with a warning) when unreachable.

    Accepts http(s) URLs (fetched with `timeout` seconds), `file://` URLs and plain paths.
    """
    try:
        data = _read_bytes(str(url), timeout)
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (urllib.error.URLError, OSError, ValueError, UnidentifiedImageError) as error:
        logger.warning("could not read image %s: %s", url, error)
        return None
