"""RFM scores and the named RFM segments.

Scores (1 to 5) rank each buyer against the store's own buyers (people with at least one
purchase up to the build date): recency by ``days_since_last_order`` (fewer days is better),
frequency by ``order_count``, monetary by ``total_spend``. A buyer's score is

    1 + floor(5 x (buyers with a worse value) / (all buyers))

so the worst fifth scores 1 and the best fifth 5, and **tied buyers always share a score**: the
score of a tied group is the one its first member would get (the group is not split across
quintiles, as NTILE would split it). With many ties a score can stay empty: when 60% of buyers
have one order, they all score F1 and the next group starts at F4.

The named segment comes from recency and FM, the floor of the mean of the frequency and
monetary scores, on the R x FM grid below. It is the grid RFM practitioners use (the R x F
"seg_map" of countless RFM tutorials, after Putler's RFM segment chart, which plots R against
the F-M average): Hibernating's lowest-recency column is split off as Lost, so all eleven
standard segment names are used.
"""

from __future__ import annotations

from segmint.profiles.sources import BuildContext

#: The named segment of each (recency score, FM score): ``RFM_GRID[fm][recency - 1]``.
RFM_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("Can't Lose Them", "Can't Lose Them", "Loyal", "Loyal", "Champions"),
    4: ("At Risk", "At Risk", "Loyal", "Loyal", "Champions"),
    3: ("At Risk", "At Risk", "Need Attention", "Potential Loyalists", "Potential Loyalists"),
    2: ("Lost", "Hibernating", "About to Sleep", "Potential Loyalists", "Potential Loyalists"),
    1: ("Lost", "Hibernating", "About to Sleep", "Promising", "New"),
}


def rfm_segment(recency: int, frequency: int, monetary: int) -> str:
    """The named segment of three scores (the same rule the SQL applies)."""
    for score in (recency, frequency, monetary):
        if not 1 <= score <= 5:
            raise ValueError(f"RFM scores run from 1 to 5, got {score}")
    return RFM_GRID[(frequency + monetary) // 2][recency - 1]


def score_sql(order_by: str) -> str:
    """SQL of a 1-5 score of the rows of ``buyers`` ranked worst first by ``order_by``."""
    return (
        "1 + CAST(FLOOR(5.0 * (RANK() OVER (ORDER BY "
        f"{order_by}) - 1) / COUNT(*) OVER ()) AS INTEGER)"
    )


def build_rfm_scores(ctx: BuildContext) -> None:
    """``w_scores``: the three scores of every buyer.

    Computed over a narrow table of buyers only: ranking windows sort their whole input, so
    they stay out of the wide profile query.
    """
    ctx.create(
        "scores",
        """
        WITH buyers AS (
          SELECT profile_id, order_count, total_spend,
                 DATE_DIFF('day', CAST(last_order_at AS DATE), CAST(:as_of AS DATE))
                   AS days_since_last_order
          FROM {w_order_stats} WHERE order_count > 0
        )
        SELECT profile_id, {recency} AS recency_score, {frequency} AS frequency_score,
               {monetary} AS monetary_score
        FROM buyers
        """,
        {
            "recency": score_sql("days_since_last_order DESC"),
            "frequency": score_sql("order_count"),
            "monetary": score_sql("total_spend"),
        },
        as_of=ctx.as_of,
    )


FM_SQL = "CAST(FLOOR((frequency_score + monetary_score) / 2.0) AS INTEGER)"


def segment_sql() -> str:
    """SQL of ``rfm_segment`` from ``recency_score`` and the FM score, from :data:`RFM_GRID`."""
    whens = []
    for fm, row in RFM_GRID.items():
        for recency, name in enumerate(row, start=1):
            quoted = name.replace("'", "''")
            whens.append(f"WHEN recency_score = {recency} AND {FM_SQL} = {fm} THEN '{quoted}'")
    return "CASE " + "\n".join(whens) + " END"


def cell_sql() -> str:
    """SQL of ``rfm_cell``: the three scores as one code, e.g. '543'."""
    return (
        "CAST(recency_score AS VARCHAR) || CAST(frequency_score AS VARCHAR) "
        "|| CAST(monetary_score AS VARCHAR)"
    )
