"""The CLV traits of the profile table, and the build step that fills them from the last fit."""

from __future__ import annotations

from segmint.clv.service import HORIZONS, current_fit, predictions_query
from segmint.clv.summary import substitute_table
from segmint.engines.base import parse_sql
from segmint.model.tables import Column, ColumnType, Table
from segmint.profiles.catalogue import ExtensionContext, ProfileExtension, Trait, register_extension

PREDICTIONS = "_segmint_clv_predictions"

CLV_TRAITS: tuple[Trait, ...] = (
    Trait(
        "clv_p_alive",
        ColumnType.DOUBLE,
        "Probability that the customer has not silently churned (purchase model).",
        "clv",
        "share",
    ),
    *(
        Trait(
            f"clv_expected_purchases_{days}d",
            ColumnType.DOUBLE,
            f"Expected purchases in the next {days} days.",
            "clv",
            "count",
        )
        for days in HORIZONS
    ),
    Trait(
        "clv_expected_order_value",
        ColumnType.DOUBLE,
        "Expected value of a future order (Gamma-Gamma; the store's mean for one-time buyers).",
        "clv",
        "currency",
    ),
    Trait(
        "clv_predicted_12m",
        ColumnType.DOUBLE,
        "Predicted value of the next 12 months, discounted at the configured yearly rate.",
        "clv",
        "currency",
    ),
    Trait(
        "clv_decile",
        ColumnType.INTEGER,
        "Decile of clv_predicted_12m among buyers: 10 is the most valuable tenth.",
        "clv",
        "score",
    ),
)

_UPDATE = """
UPDATE {profiles} SET {assignments}
FROM (
    SELECT s.profile_id, p.*
    FROM summary_placeholder AS s
    JOIN {predictions} AS p
      ON s.frequency = p.frequency AND s.recency = p.recency AND s.age = p.age
     AND s.repeat_mean_value IS NOT DISTINCT FROM p.repeat_mean_value
) AS u
WHERE {profiles}.profile_id = u.profile_id
"""

_DECILE = """
UPDATE {profiles} SET clv_decile = d.decile
FROM (
    SELECT profile_id, NTILE(10) OVER (ORDER BY clv_predicted_12m, profile_id) AS decile
    FROM {profiles} WHERE clv_predicted_12m IS NOT NULL
) AS d
WHERE {profiles}.profile_id = d.profile_id
"""


def fill_clv_traits(ctx: ExtensionContext) -> None:
    """Write the CLV traits of every buyer from the latest fit (left NULL before any fit)."""
    fit = current_fit(ctx.engine)
    if fit is None:
        return
    result = predictions_query(ctx.engine, fit, as_of=ctx.as_of, prefix=ctx.prefix)
    if result is None:
        return
    summary, predictions = result
    spec = Table(
        name=PREDICTIONS,
        description="CLV predictions per distinct customer summary (temporary).",
        key=(),
        columns=tuple(Column(name, ColumnType.DOUBLE, name) for name in predictions.column_names),
    )
    ctx.engine.drop_table(PREDICTIONS)
    ctx.engine.create_table(spec, temporary=True, with_key=False)
    try:
        ctx.engine.load_arrow(PREDICTIONS, predictions)
        traits = [t.name for t in CLV_TRAITS if t.name != "clv_decile"]
        update = parse_sql(
            _UPDATE.format(
                profiles=ctx.profiles_table,
                predictions=PREDICTIONS,
                assignments=", ".join(f"{name} = u.{name}" for name in traits),
            )
        )
        ctx.engine.execute(substitute_table(update, "summary_placeholder", summary))
        ctx.engine.execute(parse_sql(_DECILE.format(profiles=ctx.profiles_table)))
    finally:
        ctx.engine.drop_table(PREDICTIONS)


CLV_EXTENSION = ProfileExtension(
    name="clv",
    traits=CLV_TRAITS,
    fill=fill_clv_traits,
    description="Predicted customer lifetime value from the latest `segmint clv fit`.",
)

# Registered here, so the CLV traits are in the catalogue whichever module is imported first.
register_extension(CLV_EXTENSION)
