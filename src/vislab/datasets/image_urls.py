"""Images named by the URLs of the COCO url lists: http(s), `file://` or a plain path.

Nothing is fetched from the network unless the caller says so (`allow_network=True`, the
CLI's `--allow-network`); then with a total deadline, a size cap and redirects only to
http(s). Local files are read only when they are regular files (never a device or a FIFO),
up to the same size cap.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import stat
import time
import urllib.parse
import urllib.request

import numpy as np

from vislab.datasets.sample_photos import open_image
from vislab.errors import InvalidInputError, VislabError

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 32 * 2**20
_CHUNK = 2**16
_NETWORK_SCHEMES = ("http", "https")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (urllib would also follow one to ftp)."""

    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urllib.parse.urlparse(newurl).scheme.lower()
        if scheme not in _NETWORK_SCHEMES:
            raise InvalidInputError(f"{req.full_url} redirects to a {scheme or 'relative'} URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    """GET `url`, reading at most `max_bytes`; past `timeout` seconds in all it stops (each
    socket wait is itself bounded by `timeout`, so a trickling server is cut off)."""
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_HttpOnlyRedirects())
    with opener.open(url, timeout=timeout) as response:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise InvalidInputError(f"{url} is {declared} bytes, over the {max_bytes} limit")
        chunks, size = [], 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise InvalidInputError(f"{url} took longer than {timeout:g} s to download")
            chunk = response.read1(min(_CHUNK, max_bytes + 1 - size))  # what has arrived
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInputError(f"{url} is larger than the {max_bytes}-byte limit")


def _read_local(path: str, max_bytes: int) -> bytes:
    """Read a regular file of at most `max_bytes`; devices and FIFOs are refused unopened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise InvalidInputError(f"{path}: {error.strerror}") from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise InvalidInputError(f"{path} is {info.st_size} bytes, over the {max_bytes} limit")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInputError(f"{path} grew past the {max_bytes}-byte limit while read")
    return data


def read_url_bytes(
    url: str, timeout: float = 5.0, allow_network: bool = False, max_bytes: int = MAX_IMAGE_BYTES
) -> bytes:
    """The bytes at `url` (http(s) only with `allow_network`, `file://` or a plain path)."""
    parsed = urllib.parse.urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in _NETWORK_SCHEMES:
        if not allow_network:
            raise InvalidInputError(
                f"{url} is on the network and nothing is downloaded unless asked "
                "(pass --allow-network)"
            )
        return _fetch(url, timeout, max_bytes)
    if scheme == "file":
        return _read_local(urllib.request.url2pathname(parsed.path), max_bytes)
    if len(scheme) > 1:  # "C:" of a Windows path is a drive, not a scheme
        raise InvalidInputError(f"{url}: unsupported URL scheme {scheme!r}")
    return _read_local(url, max_bytes)


def image_from_url(
    url: str,
    timeout: float = 5.0,
    allow_network: bool = False,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> np.ndarray | None:
    """Read the image at `url` -> (H, W, 3) uint8 RGB, or None (with a warning) when it cannot.

    Accepts `file://` URLs and plain paths, and http(s) URLs when `allow_network` (fetched
    within `timeout` seconds in all). At most `max_bytes` are read; decompression bombs and
    non-images give None as well.
    """
    try:
        data = read_url_bytes(str(url), timeout, allow_network, max_bytes)
        return np.asarray(open_image(io.BytesIO(data), url))
    except (VislabError, http.client.HTTPException, OSError, ValueError) as error:
        logger.warning("could not read image %s: %s", url, error)
        return None
