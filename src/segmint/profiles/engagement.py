"""Review and support-ticket traits.

A ticket is open when its status is not one of ``closed_ticket_statuses`` (a missing status
counts as open). The tickets table keeps only each ticket's current status, so an as-of build
counts the tickets opened up to the build date by their status today.
"""

from __future__ import annotations

from segmint.profiles.sources import BuildContext
from segmint.profiles.sql import in_list


def build_review_stats(ctx: BuildContext) -> None:
    """``w_review_stats``: one row per person with reviews; the last review breaks time ties by
    the higher review id."""
    ctx.create(
        "review_stats",
        """
        WITH v AS (
          SELECT profile_id, rating, reviewed_at,
                 ROW_NUMBER() OVER (PARTITION BY profile_id
                                    ORDER BY reviewed_at DESC, review_id DESC) AS rn
          FROM {w_reviews} WHERE profile_id IS NOT NULL
        )
        SELECT profile_id,
          COUNT(*) AS review_count,
          AVG(CAST(rating AS DOUBLE)) AS average_rating,
          MIN(rating) AS lowest_rating,
          MAX(CASE WHEN rn = 1 THEN rating END) AS last_rating,
          MAX(reviewed_at) AS last_review_at
        FROM v GROUP BY profile_id
        """,
    )


def build_ticket_stats(ctx: BuildContext) -> None:
    """``w_ticket_stats``: one row per person with tickets."""
    ctx.create(
        "ticket_stats",
        """
        SELECT profile_id,
          COUNT(*) AS ticket_count,
          COUNT(*) FILTER (WHERE status IS NULL OR status NOT IN ({closed})) AS open_ticket_count,
          MAX(created_at) AS last_ticket_at
        FROM {w_tickets} WHERE profile_id IS NOT NULL
        GROUP BY profile_id
        """,
        {"closed": in_list(s.lower() for s in ctx.config.closed_ticket_statuses)},
    )
