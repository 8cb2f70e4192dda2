"""``docs/profiles.md``, generated from the trait catalogue, the rule modules and the config.

The rules are the docstrings of the modules that implement them, so the documentation and the
SQL are written side by side; the RFM map is rendered from :data:`~segmint.profiles.rfm.RFM_GRID`
and the settings from :class:`~segmint.config.ProfilesConfig`. A test fails when the committed
file differs from :func:`render_profiles_doc` (regenerate with
``segmint profiles catalogue --markdown > docs/profiles.md``).
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from types import ModuleType

from segmint.config import ProfilesConfig
from segmint.profiles import email, engagement, lifecycle, orders, people, rfm, web
from segmint.profiles.catalogue import (
    CATEGORY_STATS_COLUMNS,
    EMAIL_STATS_COLUMNS,
    SOURCE_DESCRIPTIONS,
    Trait,
    extensions,
    profile_traits,
    traits_by_source,
)

_INTRO = """\
# Customer profiles

`segmint profiles build` turns the warehouse into one row per person: the `profiles` table,
with every trait a marketer segments on, and two long tables for traits whose columns would
depend on the data (`profile_category_stats`, `profile_email_stats`). Segments filter on these
tables; `segmint profiles show EMAIL|ID` prints one person, `segmint profiles summary` the
whole customer base, `segmint profiles export` writes a table to CSV or Parquet.

This file is generated from the trait catalogue (`segmint/profiles/catalogue.py`) and the
modules that compute the traits: `segmint profiles catalogue --markdown > docs/profiles.md`.

## How a build works

- Identity resolution runs first (`identities`: one `profile_id` per person), then every trait
  is computed inside the database engine, in SQL, and the new tables replace the old ones in
  one transaction. A failed build leaves the previous profiles as they were.
- **Build date (`as_of`).** Every row carries the build date. Only records up to it count
  (orders, events, reviews, tickets with a time not after it; customer records created up to
  it), every "last N days" window ends at it, ages are taken on it. `--as-of 2025-06-01` means
  the end of that day (UTC). The same data and the same `as_of` give the same tables.
- An as-of build writes tables with the prefix `asof_YYYYMMDD_` (identity tables included), so
  a look at the past never replaces the profiles segments are synced from; `--prefix` picks
  another prefix, and the other `profiles` commands take `--prefix` to read them.
- **Times and days** are UTC. "Days since" counts calendar days (UTC) to the build date. "The
  last N days" is the N x 24 hours up to the build date; for a build date given as a day that
  is exactly N calendar days, the build day included.
- **Empty values.** Counts and amounts are 0 when there is nothing to count; times, averages,
  shares, rates and scores are NULL when undefined (no order, no session, nothing delivered).
- **Nothing is dropped silently.** Records that resolve to no person (an order whose customer
  is unknown, an event with neither id) are counted in the build result (`issues`) and in the
  `profile_builds` log table.
"""

_EXTENSIONS = """\
## Traits added by other modules

Modules such as the CLV model add traits without changing the profile build: they register a
`ProfileExtension` (`segmint.profiles.catalogue.register_extension`) with their traits and a
`fill` step. The traits become columns of `profiles` (NULL until filled, e.g. before a model is
fitted), are listed in this catalogue under their source, and `fill` writes them after the core
traits, inside the same build transaction.
"""


def _markdown(text: str) -> str:
    """A docstring as Markdown: reST literals become code spans."""
    return textwrap.dedent(text).strip().replace("``", "`")


def _module_rules(module: ModuleType) -> str:
    doc = inspect.getdoc(module) or ""
    _, _, body = doc.partition("\n")
    return _markdown(body)


def _trait_table(traits: list[Trait] | tuple[Trait, ...]) -> list[str]:
    lines = ["| trait | type | unit | description |", "| --- | --- | --- | --- |"]
    for t in traits:
        description = t.description
        if t.choices:
            description += " Values: " + ", ".join(f"`{c}`" for c in t.choices) + "."
        description = description.replace("|", "\\|")
        lines.append(f"| `{t.name}` | {t.type.value} | {t.unit or ''} | {description} |")
    return lines


def config_fields() -> list[tuple[str, str, str]]:
    """(name, default, description) of every ``[profiles]`` setting, from its docstring."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(ProfilesConfig)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    defaults = ProfilesConfig().model_dump()
    return [
        (name, repr(defaults[name]), docs.get(name, "")) for name in ProfilesConfig.model_fields
    ]


def _rfm_map() -> list[str]:
    lines = ["| FM \\ R | 1 | 2 | 3 | 4 | 5 |", "| --- | --- | --- | --- | --- | --- |"]
    for fm in sorted(rfm.RFM_GRID, reverse=True):
        lines.append(f"| **{fm}** | " + " | ".join(rfm.RFM_GRID[fm]) + " |")
    return lines


def _lifecycle_rules() -> list[str]:
    defaults = ProfilesConfig()
    return [
        f"{i}. `{r.stage}`: {r.rule(defaults)}"
        for i, r in enumerate(lifecycle.STAGE_RULES, start=1)
    ]


def render_profiles_doc() -> str:
    """The whole of ``docs/profiles.md``."""
    out = [_INTRO]
    out.append("## Traits of `profiles`\n")
    out.append("One row per person (`profile_id`), columns in this order.\n")
    for source, traits in traits_by_source(profile_traits()).items():
        out.append(f"### {source}\n")
        out.append(SOURCE_DESCRIPTIONS[source] + "\n")
        out += _trait_table(traits)
        out.append("")
    out.append("## `profile_category_stats`\n")
    out.append(
        "One row per person and product category (`dimension = 'category'`) or product line "
        "(`dimension = 'product_line'`) they bought. Segments such as \"more than 75% of spend "
        "in apparel\" filter on it (`dimension = 'category' AND value = 'apparel' AND "
        "spend_share > 0.75`).\n"
    )
    out += _trait_table(CATEGORY_STATS_COLUMNS)
    out.append("")
    out.append("## `profile_email_stats`\n")
    out.append(
        "One row per person and email `category` property they received or engaged with, "
        "with the same counts and rates as the `email_*` traits.\n"
    )
    out += _trait_table(EMAIL_STATS_COLUMNS)
    out.append("")
    out.append("## Rules\n")
    for title, module in (
        ("Orders", orders),
        ("Web", web),
        ("Email", email),
        ("Identifiers, customer records and consent", people),
        ("Reviews and tickets", engagement),
    ):
        out.append(f"### {title}\n")
        out.append(_module_rules(module) + "\n")
    out.append("### RFM scores and segments\n")
    out.append(_module_rules(rfm) + "\n")
    out.append("The RFM map (rows: FM score, columns: recency score):\n")
    out += _rfm_map()
    out.append("")
    out.append(
        "References: Putler, *RFM Analysis For Successful Customer Segmentation* (segment "
        "chart of R against the average of F and M); the `seg_map` of R and F score patterns "
        "shared across RFM tutorials (`[1-2][1-2]` hibernating, `[1-2][3-4]` at risk, `[1-2]5` "
        "can't lose, `3[1-2]` about to sleep, `33` need attention, `[3-4][4-5]` loyal, `41` "
        "promising, `51` new, `[4-5][2-3]` potential loyalists, `5[4-5]` champions).\n"
    )
    out.append("### Lifecycle stages\n")
    out.append(_module_rules(lifecycle) + "\n")
    out.append("With the default settings:\n")
    out += _lifecycle_rules()
    out.append("")
    out.append(_EXTENSIONS)
    registered = extensions()
    if registered:
        out.append("Registered: " + ", ".join(f"`{e.name}`" for e in registered) + ".\n")
    out.append("## Settings (`[profiles]` in segmint.toml)\n")
    out.append("| setting | default | meaning |")
    out.append("| --- | --- | --- |")
    for name, default, doc in config_fields():
        out.append(f"| `{name}` | `{default}` | {_markdown(doc)} |")
    return "\n".join(out).rstrip() + "\n"
