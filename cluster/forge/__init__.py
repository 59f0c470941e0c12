"""`quarry forge`: synthetic evidence images with an answer key, deterministic from a seed."""

from cluster.forge.image import forge_image

__all__ = ["forge_image"]
