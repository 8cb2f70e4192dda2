"""Why one customer is (or is not) in a segment: every condition, its value, pass or fail.

Each leaf condition is evaluated for the one profile with the same SQL the segment runs (so the
explanation cannot disagree with the members); groups combine their children's results as the
compiled predicate does, which is exact because every predicate is two-valued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.errors import SegmintError
from segmint.segments.compiler import PROFILE_ID, CompileContext, P, SegmentCompiler, col
from segmint.segments.model import (
    AllGroup,
    AnyCondition,
    AnyGroup,
    NotGroup,
    SegmentDefinition,
    TraitCondition,
)


@dataclass
class ConditionResult:
    """One condition of the tree, for one profile."""

    path: str
    kind: str
    summary: str
    passed: bool
    value: Any = None
    children: list[ConditionResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "summary": self.summary,
            "passed": self.passed,
            "value": _plain(self.value),
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class Explanation:
    """A segment's verdict on one profile, condition by condition."""

    segment: str
    profile_id: str
    as_of: datetime
    include: ConditionResult
    exclude: ConditionResult | None
    purpose: str
    opted_out: bool
    holdout: bool
    member: bool

    @property
    def reason(self) -> str:
        if self.member:
            return "member" + (" (in the control group)" if self.holdout else "")
        if not self.include.passed:
            return "does not meet the include conditions"
        if self.exclude is not None and self.exclude.passed:
            return "matches the exclude conditions"
        return "left out: marketing must not reach this person (opted out or unsubscribed)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "profile_id": self.profile_id,
            "as_of": self.as_of.isoformat(sep=" "),
            "member": self.member,
            "reason": self.reason,
            "purpose": self.purpose,
            "opted_out": self.opted_out,
            "holdout": self.holdout,
            "include": self.include.to_dict(),
            "exclude": self.exclude.to_dict() if self.exclude else None,
        }

    def lines(self) -> list[str]:
        """The explanation as indented text lines (what the CLI prints)."""
        out = [
            f"{self.profile_id} in {self.segment} as of {self.as_of:%Y-%m-%d %H:%M:%S}: "
            f"{self.reason}"
        ]

        def walk(node: ConditionResult, depth: int) -> None:
            mark = "PASS" if node.passed else "fail"
            value = (
                "" if node.children or node.value is None else f"  (value: {_plain(node.value)})"
            )
            out.append(f"{'  ' * depth}[{mark}] {node.path}: {node.summary}{value}")
            for child in node.children:
                walk(child, depth + 1)

        walk(self.include, 1)
        if self.exclude is not None:
            walk(self.exclude, 1)
        if self.purpose == "marketing":
            out.append(f"  [{'fail' if self.opted_out else 'PASS'}] marketing consent")
        return out


class SegmentExplainer:
    """Evaluates a definition's conditions for single profiles."""

    def __init__(self, engine: Engine, context: CompileContext) -> None:
        self.engine = engine
        self.ctx = context
        self.compiler = SegmentCompiler(context)

    def explain(
        self, definition: SegmentDefinition, profile_id: str, *, holdout: bool = False
    ) -> Explanation:
        exists = self.engine.fetch_value(
            exp.select("COUNT(*)")
            .from_(self.ctx.tables.profiles)
            .where(exp.EQ(this=col(PROFILE_ID), expression=exp.Literal.string(profile_id)))
        )
        if not exists:
            raise SegmintError(f"no profile {profile_id!r} (as of {self.ctx.as_of:%Y-%m-%d})")
        include = self._node(definition.include, "include", profile_id)
        exclude = (
            self._node(definition.exclude, "exclude", profile_id) if definition.exclude else None
        )
        opted_out = bool(self._holds(self.compiler.opted_out_predicate(), profile_id))
        rules = include.passed and not (exclude is not None and exclude.passed)
        member = rules and not (definition.purpose == "marketing" and opted_out)
        return Explanation(
            segment=definition.name,
            profile_id=profile_id,
            as_of=self.ctx.as_of,
            include=include,
            exclude=exclude,
            purpose=definition.purpose,
            opted_out=opted_out,
            holdout=holdout and member,
            member=member,
        )

    def _node(self, condition: AnyCondition, path: str, profile_id: str) -> ConditionResult:
        if isinstance(condition, AllGroup):
            kids = [
                self._node(c, f"{path}.all[{i}]", profile_id) for i, c in enumerate(condition.all)
            ]
            return ConditionResult(path, "all", "all of", all(k.passed for k in kids), None, kids)
        if isinstance(condition, AnyGroup):
            kids = [
                self._node(c, f"{path}.any[{i}]", profile_id) for i, c in enumerate(condition.any)
            ]
            return ConditionResult(path, "any", "any of", any(k.passed for k in kids), None, kids)
        if isinstance(condition, NotGroup):
            kid = self._node(condition.not_, f"{path}.not", profile_id)
            return ConditionResult(path, "not", "not", not kid.passed, None, [kid])
        leaf = self.compiler.leaf(condition)
        passed = bool(self._holds(leaf.predicate, profile_id))
        value: Any = leaf.default
        if leaf.values is not None:
            found = self.engine.fetch_one(
                exp.select("value")
                .from_(
                    exp.Subquery(
                        this=leaf.values, alias=exp.TableAlias(this=exp.to_identifier("v"))
                    )
                )
                .where(exp.EQ(this=col(PROFILE_ID), expression=exp.Literal.string(profile_id)))
            )
            if found is not None:
                value = found[0]
        if isinstance(condition, TraitCondition) and condition.op in (
            "top_percent",
            "bottom_percent",
        ):
            value = {"value": value, **self._rank(condition, profile_id)}
        return ConditionResult(path, condition.type, summarize(condition), passed, value)

    def _holds(self, predicate: exp.Expr, profile_id: str) -> Any:
        return self.engine.fetch_value(
            exp.select(predicate.as_("holds"))
            .from_(exp.to_table(self.ctx.tables.profiles).as_(P))
            .where(exp.EQ(this=col(PROFILE_ID, P), expression=exp.Literal.string(profile_id)))
        )

    def _rank(self, c: TraitCondition, profile_id: str) -> dict[str, Any]:
        """How many profiles with a value rank above this one, out of how many."""
        above = exp.Subquery(
            this=exp.select("COUNT(*)")
            .from_(exp.to_table(self.ctx.tables.profiles).as_("o"))
            .where(
                (exp.GT if c.op == "top_percent" else exp.LT)(
                    this=col(c.trait, "o"), expression=col(c.trait, P)
                )
            )
        )
        total = exp.Subquery(
            this=exp.select("COUNT(*)")
            .from_(self.ctx.tables.profiles)
            .where(exp.not_(exp.Is(this=col(c.trait), expression=exp.Null())))
        )
        row = self.engine.fetch_one(
            exp.select(above.as_("above"), total.as_("total"))
            .from_(exp.to_table(self.ctx.tables.profiles).as_(P))
            .where(exp.EQ(this=col(PROFILE_ID, P), expression=exp.Literal.string(profile_id)))
        )
        return {"ranked_above": int(row[0]), "of": int(row[1])} if row else {}


def summarize(c: AnyCondition) -> str:
    """A short human-readable line for a leaf condition (``orders: count gt 7, window last 3
    months``)."""
    full = c.model_dump(mode="json", by_alias=True, exclude_none=True)
    short = c.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
    kind = full.pop("type")
    parts = []
    head = " ".join(
        _show(full[k])
        for k in ("trait", "event", "segment", "template", "measure", "op", "value")
        if k in full and (k in short or k in ("measure", "op", "value"))
    )
    for key, value in full.items():
        if key in ("trait", "event", "segment", "template", "measure", "op", "value"):
            continue
        if key in short and value not in ([], {}, None):
            parts.append(f"{key} {_show(value)}")
    return f"{kind}: " + ", ".join([head, *parts] if head else parts)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        if "event" in value:
            where = value.get("where") or []
            return value["event"] + (f" where {_show(where)}" if where else "")
        if "last" in value:
            return f"last {value['last']} {value.get('unit', 'days')}"
        if "amount" in value:
            return f"{value['amount']} {value.get('unit', 'days')}"
        if "property" in value:
            shown = "" if value.get("value") is None else f" {_show(value['value'])}"
            return f"{value['property']} {value.get('op', 'eq')}{shown}"
        if "trait" in value:
            return f"{value['trait']} x {value.get('times', 1)}"
        return " ".join(f"{k} {_show(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
