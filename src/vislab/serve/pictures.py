"""Images for the page: PNG data URLs and saliency maps laid over their photos."""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib import colormaps
from PIL import Image

DISPLAY_SIZE = 224  # small inputs (Fashion-MNIST's 28 x 28) are enlarged to this


def png_data_url(image: Image.Image | np.ndarray, min_size: int = DISPLAY_SIZE) -> str:
    """A PIL image or uint8 array (H, W) / (H, W, 3) as a data:image/png URL.

    Images smaller than min_size are enlarged by a whole factor (nearest neighbour), so
    pixels stay sharp.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8))
    factor = max(1, -(-min_size // max(1, min(image.size))))
    if factor > 1:
        image = image.resize((image.width * factor, image.height * factor), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def saliency_overlay(image: Image.Image, saliency: np.ndarray) -> Image.Image:
    """Lay saliency (H, W), nonnegative, over image (H x W) in the 'hot' colour map.

    The map is scaled to its 99th percentile (gradient maps are a few bright pixels on a
    dark field; scaled to the maximum they all but vanish); its value is also the opacity,
    so where the model does not look, the photo shows through.
    """
    photo = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    values = np.asarray(saliency, dtype=np.float32)
    scale = float(np.percentile(values, 99)) or float(values.max())
    values = np.clip(values / max(scale, 1e-12), 0.0, 1.0)
    heat = colormaps["hot"](values)[..., :3]  # (H, W, 3)
    alpha = 0.85 * values[..., None]
    blended = photo * 0.55 * (1 - alpha) + heat * alpha
    return Image.fromarray((np.clip(blended, 0, 1) * 255).round().astype(np.uint8))
