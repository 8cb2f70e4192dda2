"""Errors segmint raises on purpose: each one carries a message meant for the user."""


class SegmintError(Exception):
    """Base class: the CLI shows the message and exits non-zero, without a traceback."""


class WorkspaceError(SegmintError):
    """The workspace is missing, damaged, or already exists."""


class ImportFileError(SegmintError):
    """A file that cannot be imported at all; nothing was written."""


class ConfigError(SegmintError):
    """The workspace configuration is invalid."""
