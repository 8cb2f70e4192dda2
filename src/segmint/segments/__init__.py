"""Dynamic segments: a definition language, its compiler to SQL, templates, and evaluation.

A segment definition (:class:`SegmentDefinition`) is a versioned document holding a tree of
conditions; :class:`SegmentService` (``Workspace.segments``) validates, stores, previews, runs
and explains segments, and keeps each run's entries and exits. See ``docs/segments.md``.

>>> ws.segments.preview({"name": "vips", "include": {                   # doctest: +SKIP
...     "type": "trait", "trait": "total_spend", "op": "top_percent", "value": 10}}).size
"""

from segmint.segments.compiler import CompileContext, SegmentCompiler, SourceTables
from segmint.segments.custom_sql import CustomSqlError, CustomSqlTemplate, SqlParameter
from segmint.segments.explain import Explanation
from segmint.segments.model import SCHEMA_VERSION, SegmentDefinition
from segmint.segments.service import History, Preview, SegmentError, SegmentService
from segmint.segments.store import RunRecord, SegmentNotFound, StoredSegment
from segmint.segments.templates import (
    BUILTIN_TEMPLATES,
    SegmentTemplate,
    TemplateError,
    get_template,
)
from segmint.segments.validation import Checker, DefinitionError, Problem

__all__ = [
    "BUILTIN_TEMPLATES",
    "SCHEMA_VERSION",
    "Checker",
    "CompileContext",
    "CustomSqlError",
    "CustomSqlTemplate",
    "DefinitionError",
    "Explanation",
    "History",
    "Preview",
    "Problem",
    "RunRecord",
    "SegmentCompiler",
    "SegmentDefinition",
    "SegmentError",
    "SegmentNotFound",
    "SegmentService",
    "SegmentTemplate",
    "SourceTables",
    "SqlParameter",
    "StoredSegment",
    "TemplateError",
    "get_template",
]
