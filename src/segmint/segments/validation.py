"""Checking a segment definition, with errors that point at the exact place and suggest a fix.

Two passes: the document's shape (pydantic, :mod:`segmint.segments.model`), then its meaning
against the workspace: traits and events that exist, operators that fit the trait's kind, values
of the right type, other segments and SQL templates that exist, no cycles between segments.
Every problem carries a path such as ``include.all[2].window`` and, for a misspelt name, the
nearest known one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ValidationError

from segmint.errors import SegmintError
from segmint.segments.catalogue import Catalogue, TraitInfo, nearest
from segmint.segments.model import (
    LEAF_TYPES,
    LIST_OPS,
    TAG_PREFIX,
    VALUELESS_OPS,
    AllGroup,
    AnyCondition,
    AnyGroup,
    Duration,
    EventCondition,
    EventRatioCondition,
    EventSelector,
    EventSequenceCondition,
    NotGroup,
    OrdersCondition,
    PropertyFilter,
    ReviewsCondition,
    SegmentDefinition,
    SegmentMembershipCondition,
    SqlTemplateCondition,
    TemplateRef,
    TicketsCondition,
    TraitCondition,
    TraitRef,
    Window,
    definition_conditions,
)
from segmint.segments.timeutil import as_datetime


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, at one place."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionError(SegmintError):
    """A segment definition that is not valid; nothing was saved."""

    def __init__(self, problems: list[Problem], name: str | None = None) -> None:
        self.problems = problems
        self.name = name
        head = f"segment {name!r} is not valid" if name else "the segment definition is not valid"
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{head}:\n{lines}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": str(self),
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
        }


class TemplateParams(Protocol):
    """A custom SQL template as validation sees it."""

    def check_params(self, params: Mapping[str, Any]) -> list[str]: ...


# -- reading documents -----------------------------------------------------------------------------


def read_document(text: str, *, source: str = "definition") -> dict[str, Any]:
    """A definition document from JSON or YAML text (JSON is YAML, so YAML parses both)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise DefinitionError(
                [Problem("", f"{source} is neither JSON nor YAML{where}")]
            ) from None
    if not isinstance(data, dict):
        raise DefinitionError([Problem("", f"{source} must be an object with name and include")])
    return data


# -- shape ----------------------------------------------------------------------------------------

_BRANCH_LABEL = re.compile(r"^(bool|int|float|str|list\[.*|dict\[.*|function-.*|[A-Z]\w+|none)$")
# Where a nested model sits, by the field that holds it (for "did you mean" on unknown fields).
_FIELD_MODELS: dict[str, type[BaseModel]] = {
    "window": Window,
    "within": Duration,
    "where": PropertyFilter,
    "numerator": EventSelector,
    "denominator": EventSelector,
    "first": EventSelector,
    "then_not": EventSelector,
    "template": TemplateRef,
    "value": TraitRef,
}
_GROUP_FIELDS = {"<all>": AllGroup, "<any>": AnyGroup, "<not>": NotGroup}


def format_path(loc: tuple[Any, ...]) -> str:
    """``('include', '<all>', 'all', 2, '<orders>', 'window')`` → ``include.all[2].window``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (part.startswith(TAG_PREFIX) or _BRANCH_LABEL.match(part)):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    for part in reversed(loc):
        if isinstance(part, int):
            continue
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            kind = part[1:-1]
            return _GROUP_FIELDS.get(part) or LEAF_TYPES.get(kind, SegmentDefinition)  # type: ignore[return-value]
        if part in _FIELD_MODELS:
            return _FIELD_MODELS[part]
        if not _BRANCH_LABEL.match(str(part)):
            break
    return SegmentDefinition


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def shape_problems(error: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems with readable paths, one per place."""
    grouped: dict[str, list[Any]] = {}
    for err in error.errors():
        grouped.setdefault(format_path(tuple(err["loc"])), []).append(err)
    problems = []
    for path, errs in grouped.items():
        if len(errs) > 1:
            # A union tried each of its types here; say what fits rather than every miss.
            last = path.rsplit(".", 1)[-1]
            message = (
                "expected a number, text, true/false, a list of them, or {trait: ...}"
                if last.startswith("value")
                else _message(errs[0])
            )
        else:
            message = _message(errs[0])
        problems.append(Problem(path, message))
    return problems


def _message(err: Any) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1])
        known = _field_names(_model_at(loc[:-1]))
        guess = nearest(field, known)
        hint = f"; did you mean {guess!r}?" if guess else f"; known fields: {', '.join(known)}"
        return f"unknown field {field!r}{hint}"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        given = err.get("input")
        guess = nearest(str(given), expected) if isinstance(given, str) else None
        hint = f"; did you mean {guess!r}?" if guess else ""
        return f"{given!r} is not one of {', '.join(expected)}{hint}"
    if kind == "string_pattern_mismatch" and loc == ("name",):
        return (
            f"{err.get('input')!r} is not a segment name: use lower-case letters, digits, "
            "- and _, starting with a letter or digit (at most 63 characters)"
        )
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def parse_definition(data: Mapping[str, Any] | SegmentDefinition) -> SegmentDefinition:
    """Check a document's shape; raises :class:`DefinitionError` listing every problem."""
    if isinstance(data, SegmentDefinition):
        return data
    try:
        return SegmentDefinition.model_validate(dict(data))
    except ValidationError as exc:
        name = data.get("name") if isinstance(data.get("name"), str) else None
        raise DefinitionError(shape_problems(exc), name) from None


# -- meaning ---------------------------------------------------------------------------------------

_PROPERTY_PATH = re.compile(r"^[A-Za-z0-9_$\- ]+(\.[A-Za-z0-9_$\- ]+)*$")
_COMPARISONS = {"eq", "neq", "gt", "gte", "lt", "lte"}
_OPS_BY_KIND: dict[str, set[str]] = {
    "number": _COMPARISONS
    | {"between", "in", "not_in", "is_set", "is_not_set", "top_percent", "bottom_percent"},
    "text": {
        "eq",
        "neq",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        "is_set",
        "is_not_set",
    },
    "boolean": {"eq", "neq", "is_set", "is_not_set"},
    "time": _COMPARISONS | {"between", "within_last", "more_than_ago", "is_set", "is_not_set"},
}


@dataclass
class Checker:
    """Checks a definition's meaning against a catalogue and the workspace's other objects."""

    catalogue: Catalogue
    segments: Callable[[str], SegmentDefinition | None] = lambda name: None
    sql_templates: Callable[[str], TemplateParams | None] = lambda name: None

    def check(self, definition: SegmentDefinition) -> list[Problem]:
        problems: list[Problem] = []
        for path, condition in definition_conditions(definition):
            problems += self._condition(path, condition, definition.name)
        return problems

    def validate(self, data: Mapping[str, Any] | SegmentDefinition) -> SegmentDefinition:
        """Shape and meaning; raises :class:`DefinitionError` with every problem found."""
        definition = parse_definition(data)
        problems = self.check(definition)
        if problems:
            raise DefinitionError(problems, definition.name)
        return definition

    # -- per condition --------------------------------------------------------------------------

    def _condition(self, path: str, c: AnyCondition, own_name: str) -> list[Problem]:
        if isinstance(c, TraitCondition):
            return self._trait(path, c)
        if isinstance(c, OrdersCondition):
            problems = _number_value(path, c.op, c.value)
            if c.min_orders is not None and c.measure not in ("share_of_count", "share_of_value"):
                problems.append(
                    Problem(
                        f"{path}.min_orders", "applies to shares only; for a count use op/value"
                    )
                )
            if c.measure in ("share_of_count", "share_of_value"):
                problems += _share_value(path, c.value)
                if not (c.categories or c.product_lines or c.products or c.coupon_codes) and (
                    c.discount == "any"
                ):
                    problems.append(
                        Problem(
                            path,
                            "a share needs a filter (categories, product_lines, "
                            "products, discount or coupon_codes): the share of which orders?",
                        )
                    )
            return problems
        if isinstance(c, EventCondition):
            problems = self._event_name(f"{path}.event", c.event)
            problems += self._filters(path, c.where)
            problems += _number_value(path, c.op, c.value)
            if c.measure != "count" and not c.property:
                problems.append(
                    Problem(f"{path}.property", f"measure {c.measure!r} needs a property")
                )
            if c.property:
                problems += _property_path(f"{path}.property", c.property)
            return problems
        if isinstance(c, EventRatioCondition):
            problems = self._selector(f"{path}.numerator", c.numerator)
            problems += self._selector(f"{path}.denominator", c.denominator)
            return problems + _number_value(path, c.op, c.value)
        if isinstance(c, EventSequenceCondition):
            problems = self._selector(f"{path}.first", c.first)
            for i, step in enumerate(c.then_not):
                problems += self._selector(f"{path}.then_not[{i}]", step)
            return problems
        if isinstance(c, ReviewsCondition):
            problems = _number_value(path, c.op, c.value)
            if c.min_rating and c.max_rating and c.min_rating > c.max_rating:
                problems.append(Problem(f"{path}.min_rating", "is above max_rating"))
            return problems
        if isinstance(c, TicketsCondition):
            return _number_value(path, c.op, c.value)
        if isinstance(c, SegmentMembershipCondition):
            return self._membership(f"{path}.segment", c.segment, own_name)
        if isinstance(c, SqlTemplateCondition):
            template = self.sql_templates(c.template)
            if template is None:
                return [Problem(f"{path}.template", f"no SQL template named {c.template!r}")]
            return [Problem(f"{path}.params", m) for m in template.check_params(c.params)]
        return []

    def _trait(self, path: str, c: TraitCondition) -> list[Problem]:
        info = self.catalogue.trait(c.trait)
        if info is None:
            guess = self.catalogue.suggest_trait(c.trait)
            hint = f"; did you mean {guess!r}?" if guess else ""
            return [Problem(f"{path}.trait", f"unknown trait {c.trait!r}{hint}")]
        allowed = _OPS_BY_KIND[info.kind]
        if c.op not in allowed:
            return [
                Problem(
                    f"{path}.op",
                    f"{c.op!r} does not apply to {info.kind} trait {info.name!r}; use one of "
                    + ", ".join(sorted(allowed)),
                )
            ]
        return [Problem(f"{path}.value", m) for m in self._trait_value(c, info)]

    def _trait_value(self, c: TraitCondition, info: TraitInfo) -> list[str]:
        op, value = c.op, c.value
        if op in VALUELESS_OPS:
            return [] if value is None else [f"{op} takes no value"]
        if value is None:
            return ["is required"]
        if isinstance(value, TraitRef):
            other = self.catalogue.trait(value.trait)
            if other is None:
                guess = self.catalogue.suggest_trait(value.trait)
                hint = f"; did you mean {guess!r}?" if guess else ""
                return [f"unknown trait {value.trait!r}{hint}"]
            if op not in _COMPARISONS or info.kind != "number" or other.kind != "number":
                return [
                    "compare a number trait with another number trait using eq, neq, gt, "
                    "gte, lt or lte"
                ]
            return []
        if op in ("top_percent", "bottom_percent"):
            if not _is_number(value) or not 0 < float(value) <= 100:  # type: ignore[arg-type]
                return ["a percentage above 0 and at most 100"]
            return []
        if op in ("within_last", "more_than_ago"):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                return [f"how many {c.unit}: a whole number above 0"]
            return []
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                return ["between takes a list of two values: [low, high]"]
            problems = [m for v in value for m in _scalar_fits(info, v)]
            if not problems and _ordered(info, value[0]) > _ordered(info, value[1]):
                problems.append("the low end is above the high end")
            return problems
        if op in LIST_OPS:
            if not isinstance(value, list) or not value:
                return [f"{op} takes a non-empty list of values"]
            return [m for v in value for m in _scalar_fits(info, v)] + _choices(info, value)
        if isinstance(value, list):
            return [f"{op} takes one value, not a list"]
        problems = _scalar_fits(info, value)
        if not problems and op in ("eq", "neq"):
            problems += _choices(info, [value])
        return problems

    def _event_name(self, path: str, name: str) -> list[Problem]:
        if self.catalogue.has_event(name):
            return []
        guess = self.catalogue.suggest_event(name)
        hint = f"; did you mean {guess!r}?" if guess else ""
        return [Problem(path, f"unknown event {name!r}{hint}")]

    def _selector(self, path: str, s: EventSelector) -> list[Problem]:
        return self._event_name(f"{path}.event", s.event) + self._filters(path, s.where)

    def _filters(self, path: str, filters: list[PropertyFilter]) -> list[Problem]:
        problems = []
        for i, f in enumerate(filters):
            here = f"{path}.where[{i}]"
            problems += _property_path(f"{here}.property", f.property)
            if f.op in VALUELESS_OPS:
                if f.value is not None:
                    problems.append(Problem(f"{here}.value", f"{f.op} takes no value"))
            elif f.value is None:
                problems.append(Problem(f"{here}.value", "is required"))
            elif f.op in LIST_OPS and (not isinstance(f.value, list) or not f.value):
                problems.append(Problem(f"{here}.value", f"{f.op} takes a non-empty list"))
            elif f.op == "between" and (
                not isinstance(f.value, list)
                or len(f.value) != 2
                or not all(map(_is_number, f.value))
            ):
                problems.append(Problem(f"{here}.value", "between takes two numbers: [low, high]"))
            elif f.op not in LIST_OPS and f.op != "between" and isinstance(f.value, list):
                problems.append(Problem(f"{here}.value", f"{f.op} takes one value, not a list"))
            elif f.op in ("gt", "gte", "lt", "lte") and not _is_number(f.value):
                problems.append(Problem(f"{here}.value", f"{f.op} compares numbers"))
        return problems

    def _membership(self, path: str, name: str, own_name: str) -> list[Problem]:
        if name == own_name:
            return [Problem(path, "a segment cannot contain itself")]
        other = self.segments(name)
        if other is None:
            return [Problem(path, f"no segment named {name!r}")]
        cycle = self._find_cycle(name, [own_name])
        if cycle:
            return [
                Problem(
                    path, "segments would refer to each other in a cycle: " + " -> ".join(cycle)
                )
            ]
        return []

    def _find_cycle(self, name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail, name]
        definition = self.segments(name)
        if definition is None:
            return None
        for _, c in definition_conditions(definition):
            if isinstance(c, SegmentMembershipCondition):
                found = self._find_cycle(c.segment, [*trail, name])
                if found:
                    return found
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_value(path: str, op: str, value: Any) -> list[Problem]:
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return [Problem(f"{path}.value", "between takes a list of two numbers: [low, high]")]
        if value[0] > value[1]:
            return [Problem(f"{path}.value", "the low end is above the high end")]
        return []
    if isinstance(value, list):
        return [Problem(f"{path}.value", f"{op} takes one number, not a list")]
    return []


def _share_value(path: str, value: Any) -> list[Problem]:
    values = value if isinstance(value, list) else [value]
    if any(v < 0 or v > 1 for v in values):
        return [Problem(f"{path}.value", "a share is between 0 and 1 (0.75 means 75%)")]
    return []


def _property_path(path: str, prop: str) -> list[Problem]:
    if not _PROPERTY_PATH.match(prop):
        return [Problem(path, f"{prop!r} is not a property path (names separated by dots)")]
    return []


def _scalar_fits(info: TraitInfo, value: Any) -> list[str]:
    if info.kind == "number" and not _is_number(value):
        return [f"{info.name} is a number; {value!r} is not"]
    if info.kind == "boolean" and not isinstance(value, bool):
        return [f"{info.name} is true or false; {value!r} is not"]
    if info.kind == "text" and not isinstance(value, str):
        return [f"{info.name} is text; write {value!r} in quotes"]
    if info.kind == "time":
        if not isinstance(value, str | date | datetime):
            return [f"{info.name} is a time; give a date such as 2026-01-31"]
        try:
            as_datetime(value)
        except ValueError:
            return [f"{value!r} is not a date or time (use 2026-01-31 or 2026-01-31T10:00:00)"]
    return []


def _ordered(info: TraitInfo, value: Any) -> Any:
    return as_datetime(value) if info.kind == "time" else value


def _choices(info: TraitInfo, values: list[Any]) -> list[str]:
    if not info.choices:
        return []
    known = {c.lower(): c for c in info.choices}
    problems = []
    for v in values:
        if isinstance(v, str) and v.lower() not in known:
            guess = nearest(v.lower(), known)
            hint = f"; did you mean {known[guess]!r}?" if guess else ""
            problems.append(
                f"{v!r} is not a value of {info.name} ({', '.join(info.choices)}){hint}"
            )
    return problems
