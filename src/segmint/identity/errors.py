"""Errors identity resolution raises on purpose."""

from segmint.errors import SegmintError


class IdentityError(SegmintError):
    """Identity resolution cannot run as asked (bad prefix, unknown identifier, no build yet)."""
