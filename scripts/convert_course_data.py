"""One-off: copy the course's oracle files into the repository, without pickles.

    python scripts/convert_course_data.py PATH/TO/reference

`imagenet_val_25.npz` carries its `label_map` as a pickled dict; it is unpickled here, once,
by a developer, and written back as two plain arrays (`class_ids`, `class_names`), so that
nothing in vislab ever unpickles it. `gan-checks.npz` holds plain arrays and is copied as is.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IMAGENET_OUT = REPO / "src" / "vislab" / "datasets" / "data" / "imagenet_val_25.npz"
GAN_CHECKS_OUT = REPO / "tests" / "gan" / "data" / "gan-checks.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="folder with the course's two npz files")
    source = parser.parse_args().reference
    with np.load(source / "imagenet_val_25.npz", allow_pickle=True) as arrays:
        label_map = arrays["label_map"].item()
        ids = np.array(sorted(label_map), dtype=np.int64)
        np.savez_compressed(
            IMAGENET_OUT,
            X=arrays["X"],
            y=arrays["y"].astype(np.int64),
            class_ids=ids,
            class_names=np.array([str(label_map[i]) for i in ids]),
        )
    with np.load(source / "gan-checks.npz", allow_pickle=False) as arrays:
        assert all(arrays[key].dtype != object for key in arrays.files)
    shutil.copyfile(source / "gan-checks.npz", GAN_CHECKS_OUT)
    print(f"wrote {IMAGENET_OUT.relative_to(REPO)} and {GAN_CHECKS_OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
