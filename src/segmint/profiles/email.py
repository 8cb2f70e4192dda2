"""Email traits: delivered, opened and clicked emails and their rates, per window and category.

An *email* is one message to one person, keyed by the event's ``email_id`` property, else its
``campaign_id``, else the event's message id (then every event counts on its own). Counts are
of distinct emails, so an email opened five times counts once. An email counts in a window
when an event of that kind for it happened in the window (the last ``N`` days up to the build
date). Rates are opened / delivered and clicked / delivered in the same window, capped at 1
(an email delivered just before the window and opened in it can make opens outnumber
deliveries), and NULL when nothing was delivered in the window.

Per category: the category of an email is its ``category`` property, taken from any event of
the same email (campaign tools often put it on the delivery only). Emails without one count in
the profile's totals only.
"""

from __future__ import annotations

from segmint.profiles.catalogue import EMAIL_STATS_COLUMNS, EMAIL_WINDOWS
from segmint.profiles.sources import EMAIL_KINDS, BuildContext
from segmint.profiles.sql import in_list


def build_email_facts(ctx: BuildContext) -> None:
    """``w_email``: one row per person, email and event kind, with the latest time."""
    ctx.create(
        "email",
        """
        SELECT profile_id, kind, email_key,
               MIN(MIN(email_category)) OVER (PARTITION BY profile_id, email_key) AS category,
               MAX(ts) AS ts
        FROM {w_events}
        WHERE profile_id IS NOT NULL AND kind IN ({email_kinds})
        GROUP BY profile_id, kind, email_key
        """,
        {"email_kinds": in_list(EMAIL_KINDS)},
    )


def _window_columns(prefix: str) -> str:
    """Counts and rates per window; ``prefix`` is ``email_`` on the profile, empty per category."""
    columns: list[str] = []
    for days in EMAIL_WINDOWS:
        since = f":since_{days}"
        delivered = f"COUNT(*) FILTER (WHERE kind = 'email_delivered' AND ts > {since})"
        opened = f"COUNT(*) FILTER (WHERE kind = 'email_opened' AND ts > {since})"
        clicked = f"COUNT(*) FILTER (WHERE kind = 'email_clicked' AND ts > {since})"
        columns += [
            f"{delivered} AS {prefix}delivered_{days}d",
            f"{opened} AS {prefix}opened_{days}d",
            f"{clicked} AS {prefix}clicked_{days}d",
            f"CASE WHEN {delivered} > 0 THEN LEAST(CAST({opened} AS DOUBLE) / {delivered}, 1.0)"
            f" END AS {prefix}open_rate_{days}d",
            f"CASE WHEN {delivered} > 0 THEN LEAST(CAST({clicked} AS DOUBLE) / {delivered}, 1.0)"
            f" END AS {prefix}click_rate_{days}d",
        ]
    return ",\n".join(columns)


def build_email_stats(ctx: BuildContext) -> None:
    """``w_email_stats`` (per person) and ``profile_email_stats`` (per person and category)."""
    since = {f"since_{days}": ctx.since(days) for days in EMAIL_WINDOWS}
    ctx.create(
        "email_stats",
        """
        SELECT profile_id,
          {columns},
          MAX(ts) FILTER (WHERE kind = 'email_opened') AS last_email_open_at,
          MAX(ts) FILTER (WHERE kind = 'email_clicked') AS last_email_click_at
        FROM {w_email}
        GROUP BY profile_id
        """,
        {"columns": _window_columns("email_")},
        **since,
    )
    ctx.create_output(
        "email_stats",
        """
        SELECT profile_id, category,
          {columns},
          MAX(ts) FILTER (WHERE kind = 'email_opened') AS last_open_at,
          MAX(ts) FILTER (WHERE kind = 'email_clicked') AS last_click_at
        FROM {w_email}
        WHERE category IS NOT NULL
        GROUP BY profile_id, category
        """,
        EMAIL_STATS_COLUMNS,
        {"columns": _window_columns("")},
        **since,
    )
