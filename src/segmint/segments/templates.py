"""The built-in templates, by name: segments people ask for, with parameters to fill.

Templates are definitions with parameter slots, not SQL (see :mod:`segmint.segments.templating`;
the library itself is :mod:`segmint.segments.library`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from segmint.profiles.catalogue import LIFECYCLE_STAGES, RFM_SEGMENTS
from segmint.segments.catalogue import nearest
from segmint.segments.library import LIBRARY
from segmint.segments.model import SegmentDefinition
from segmint.segments.templating import SegmentTemplate, Slot, TemplateError, TemplateParam

__all__ = [
    "BUILTIN_TEMPLATES",
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "SegmentTemplate",
    "Slot",
    "TemplateError",
    "TemplateParam",
    "get_template",
    "instantiate",
]

BUILTIN_TEMPLATES: dict[str, SegmentTemplate] = {t.name: t for t in LIBRARY}


def get_template(name: str) -> SegmentTemplate:
    """A built-in template by name, with a suggestion when the name is misspelt."""
    template = BUILTIN_TEMPLATES.get(name)
    if template is None:
        guess = nearest(name, BUILTIN_TEMPLATES)
        hint = f"; did you mean {guess!r}?" if guess else "; see `segmint template list`"
        raise TemplateError(f"no template named {name!r}{hint}")
    return template


def instantiate(
    name: str, template: str, params: Mapping[str, Any] | None = None, **options: Any
) -> SegmentDefinition:
    """A definition from a built-in template (see :meth:`SegmentTemplate.instantiate`)."""
    return get_template(template).instantiate(name, params, **options)
