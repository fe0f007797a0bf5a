"""vislab: image captioning, classifier explanations and GANs (CS231n Assignment 3) as a library."""

__version__ = "0.1.0"
