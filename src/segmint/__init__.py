"""segmint: customer segmentation for e-commerce stores."""

from segmint.errors import SegmintError
from segmint.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["SegmintError", "Workspace", "__version__"]
