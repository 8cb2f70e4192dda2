"""Template machinery: a segment definition with parameter slots, and its parameters.

A template's body is an ordinary definition document in which some values are :class:`Slot`
objects. Instantiating fills the slots with the given (or default) values, checks them, and
yields a plain :class:`~segmint.segments.model.SegmentDefinition` that remembers where it came
from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from segmint.errors import SegmintError
from segmint.segments.catalogue import nearest
from segmint.segments.model import SegmentDefinition
from segmint.segments.validation import parse_definition

ParamKind = Literal["integer", "number", "percent", "text", "text_list", "choice", "trait"]


class TemplateError(SegmintError):
    """A template that does not exist, or parameters that do not fit it."""


@dataclass(frozen=True)
class Slot:
    """A place in a template body filled by a parameter.

    ``times`` scales a number (a percentage of 75 fills a share of 0.75); ``choices`` maps a
    choice parameter's value to what goes in the slot.
    """

    param: str
    times: float | None = None
    choices: Mapping[str, Any] | None = None

    def fill(self, value: Any) -> Any:
        if self.choices is not None:
            return self.choices[value]
        if self.times is not None:
            return round(value * self.times, 10)
        return value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"$param": self.param}
        if self.times is not None:
            out["times"] = self.times
        if self.choices is not None:
            out["choices"] = dict(self.choices)
        return out


@dataclass(frozen=True)
class TemplateParam:
    """A parameter of a template."""

    name: str
    kind: ParamKind
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """A problem with a value, or None."""
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if self.kind == "integer" and not (number and float(value).is_integer()):
            return f"{value!r} is not a whole number"
        if self.kind in ("number", "percent") and not number:
            return f"{value!r} is not a number"
        if self.kind in ("text", "trait") and not (isinstance(value, str) and value.strip()):
            return f"{value!r} is not text"
        if self.kind == "text_list" and not (
            isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
        ):
            return f"{value!r} is not a non-empty list of text"
        if self.kind == "choice":
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in self.choices:
                    guess = nearest(str(v), self.choices)
                    hint = f"; did you mean {guess!r}?" if guess else ""
                    return f"{v!r} is not one of {', '.join(self.choices)}{hint}"
        if number and self.minimum is not None and value < self.minimum:
            return f"{value} is below the minimum {self.minimum:g}"
        if number and self.maximum is not None and value > self.maximum:
            return f"{value} is above the maximum {self.maximum:g}"
        return None

    def convert(self, text: str) -> Any:
        """A value typed as text (``--param days=7``) in this parameter's type."""
        try:
            if self.kind == "integer":
                return int(text)
            if self.kind in ("number", "percent"):
                return float(text) if "." in text else int(text)
        except ValueError:
            raise TemplateError(f"parameter {self.name!r}: {text!r} is not a number") from None
        if self.kind == "text_list":
            return [t.strip() for t in text.split(",") if t.strip()]
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "description": self.description,
        }
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class SegmentTemplate:
    """A segment with parameter slots and a plain-language description."""

    name: str
    title: str
    description: str
    """Plain language with ``{param}`` placeholders, filled when describing an instance."""
    parameters: tuple[TemplateParam, ...]
    body: dict[str, Any]
    """``include`` (and optionally ``exclude``, ``purpose``) with :class:`Slot` values."""
    tags: tuple[str, ...] = field(default=())

    def param(self, name: str) -> TemplateParam:
        for p in self.parameters:
            if p.name == name:
                return p
        raise TemplateError(f"template {self.name!r} has no parameter {name!r}")

    def resolve_params(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Given values merged over defaults, each checked; raises listing every problem."""
        given = dict(params or {})
        known = {p.name for p in self.parameters}
        problems = []
        for key in given:
            if key not in known:
                guess = nearest(key, known)
                hint = f"; did you mean {guess!r}?" if guess else ""
                problems.append(f"unknown parameter {key!r}{hint}")
        values: dict[str, Any] = {}
        for p in self.parameters:
            value = given.get(p.name, p.default)
            if isinstance(value, str) and p.kind not in ("text", "trait", "choice"):
                value = p.convert(value)
            problem = p.check(value)
            if problem:
                problems.append(f"{p.name}: {problem}")
            values[p.name] = value
        if problems:
            raise TemplateError(f"template {self.name!r}: " + "; ".join(problems))
        return values

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        """The description with the parameter values in place."""
        values = self.resolve_params(params)
        shown = {
            k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in values.items()
        }
        return self.description.format(**shown)

    def instantiate(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        title: str | None = None,
        purpose: str | None = None,
        holdout_percent: float | None = None,
    ) -> SegmentDefinition:
        """A definition named ``name`` from this template (checked for shape; the workspace
        checks its meaning when it is saved or previewed)."""
        values = self.resolve_params(params)
        document: dict[str, Any] = {
            "name": name,
            "title": title or self.title,
            "description": self.describe(values),
            **_fill(self.body, values),
            "template": {"name": self.name, "params": values},
        }
        if purpose is not None:
            document["purpose"] = purpose
        if holdout_percent is not None:
            document["holdout_percent"] = holdout_percent
        return parse_definition(document)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "parameters": [p.to_dict() for p in self.parameters],
            "body": _show(self.body),
            "tags": list(self.tags),
        }


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, Slot):
        return node.fill(values[node.param])
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    return node


def _show(node: Any) -> Any:
    if isinstance(node, Slot):
        return node.to_dict()
    if isinstance(node, dict):
        return {k: _show(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_show(v) for v in node]
    return node
