"""scikit-image's sample photos by name, and clear errors for files that are not images."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from vislab.datasets.sample_photos import SAMPLE_PHOTOS, load_image, load_sample_photo
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_every_sample_photo_loads_as_rgb():
    for name in SAMPLE_PHOTOS:
        image = load_sample_photo(name)
        assert image.mode == "RGB" and min(image.size) >= 256
    assert load_sample_photo("chelsea").size == (451, 300)


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="chelsea"):
        load_sample_photo("kitten")
    with pytest.raises(DataNotFoundError, match="missing.png"):
        load_image(tmp_path / "missing.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(CorruptFileError, match="notes.png"):
        load_image(text)


def _png_header_only(path, width: int, height: int):
    """A PNG that declares width x height pixels but holds one empty IDAT chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    payload = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + payload)
    return path


@pytest.mark.parametrize(("width", "height"), [(20000, 10000), (10000, 9000)])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, width, height):
    # 200 M pixels is past Pillow's error limit, 90 M only past its warning: both refused.
    path = _png_header_only(tmp_path / "huge.png", width, height)
    with pytest.raises(InvalidInputError, match="huge.png: too many pixels .* decompression bomb"):
        load_image(path)


def test_extreme_aspect_ratio_is_refused(tmp_path):
    path = tmp_path / "strip.png"
    Image.new("RGB", (80000, 1)).save(path)
    with pytest.raises(InvalidInputError, match="strip.png: 80000x1 pixels is a more extreme"):
        load_image(path)
    Image.new("RGB", (500, 20)).save(path)  # a 25:1 panorama is fine
    assert load_image(path).size == (500, 20)


def test_a_png_declaring_a_huge_chunk_is_refused_in_bounded_memory(tmp_path):
    """A PNG whose IDAT header declares ~2 GB (found by the fuzzer): under a 1.5 GB address-space
    limit it loads what the file holds or is refused, where Pillow reading the file directly
    allocated what the header declared and raised MemoryError."""
    import io
    import struct
    import subprocess
    import sys

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    idat = data.index(b"IDAT") - 4  # the chunk's 4-byte length comes before its type
    data[idat : idat + 4] = struct.pack(">I", 0x7FFF0000)
    (tmp_path / "huge chunk.png").write_bytes(bytes(data))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))\n"
        "from vislab.datasets.sample_photos import load_image\n"
        "from vislab.errors import CorruptFileError\n"
        "try:\n"
        "    print('loaded', load_image(sys.argv[1]).size)\n"
        "except CorruptFileError as error:\n"
        "    print('refused:', error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "huge chunk.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "loaded (8, 8)" or (
        result.stdout.startswith("refused: ") and "huge chunk.png" in result.stdout
    )
