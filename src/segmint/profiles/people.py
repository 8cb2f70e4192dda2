"""Who the person is: identifiers, customer-record attributes and marketing consent.

A person can have several customer records (accounts merged by identity resolution). The
*primary* record is the oldest account (earliest ``created_at``; records without one come
last; ties by customer id). Each attribute is taken from the primary record, or, where that
record leaves it empty, from the next record in the same order that has it.

Marketing consent over several records (``accepts_marketing``): an opt-out wins unless an
opt-in is known to be more recent. Each record's decision time is its
``marketing_consent_updated_at``, else its ``created_at``. The person accepts marketing when
at least one record opted in, and every record that opted out has a decision time earlier than
the latest opt-in. Records without a consent value do not count; with none at all, consent is
unknown (NULL), which destinations treat as no consent. Consent is the latest known state even
in an as-of build: a later opt-out is never undone by looking at the past.
"""

from __future__ import annotations

from segmint.profiles.catalogue import AGE_BANDS
from segmint.profiles.sources import BuildContext

#: Attributes taken from the first customer record (in primary order) that has them.
_RECORD_ATTRIBUTES: dict[str, str] = {
    "email": "LOWER(NULLIF(TRIM(email), ''))",
    "phone": "NULLIF(TRIM(phone), '')",
    "first_name": "NULLIF(TRIM(first_name), '')",
    "last_name": "NULLIF(TRIM(last_name), '')",
    "gender": "LOWER(NULLIF(TRIM(gender), ''))",
    "birth_date": "birth_date",
    "marital_status": "LOWER(NULLIF(TRIM(marital_status), ''))",
    "city": "NULLIF(TRIM(city), '')",
    "region": "NULLIF(TRIM(region), '')",
    "country": "NULLIF(TRIM(country), '')",
}


def build_people(ctx: BuildContext) -> None:
    """``w_people`` (identifiers per person) and ``w_customer_stats`` (record attributes)."""
    ctx.create(
        "people",
        """
        WITH i AS (
          SELECT id_type, id_value, profile_id, first_seen, last_seen,
                 ROW_NUMBER() OVER (PARTITION BY profile_id, id_type
                                    ORDER BY last_seen DESC NULLS LAST, id_value) AS rn
          FROM {identities}
          WHERE first_seen IS NULL OR first_seen <= :as_of
        )
        SELECT profile_id,
          COUNT(*) FILTER (WHERE id_type = 'customer_id') AS customer_id_count,
          COUNT(*) FILTER (WHERE id_type = 'email') AS email_count,
          COUNT(*) FILTER (WHERE id_type = 'phone') AS phone_count,
          COUNT(*) FILTER (WHERE id_type = 'anonymous_id') AS anonymous_id_count,
          MIN(first_seen) AS first_seen_at,
          MAX(CASE WHEN id_type = 'email' AND rn = 1 THEN id_value END) AS latest_email,
          MAX(CASE WHEN id_type = 'phone' AND rn = 1 THEN id_value END) AS latest_phone
        FROM i
        GROUP BY profile_id
        """,
        as_of=ctx.as_of,
    )
    cleaned = ",\n".join(f"{sql} AS {name}" for name, sql in _RECORD_ATTRIBUTES.items())
    firsts = ",\n".join(
        f"MIN(CASE WHEN {name} IS NOT NULL THEN rn END) OVER (PARTITION BY profile_id) AS {name}_rn"
        for name in _RECORD_ATTRIBUTES
    )
    picks = ",\n".join(
        f"MAX(CASE WHEN rn = {name}_rn THEN {name} END) AS {name}" for name in _RECORD_ATTRIBUTES
    )
    ctx.create(
        "customer_stats",
        """
        WITH c AS (
          SELECT profile_id, customer_id, created_at, accepts_marketing,
                 COALESCE(marketing_consent_updated_at, created_at) AS decided_at,
                 {cleaned},
                 ROW_NUMBER() OVER (PARTITION BY profile_id
                                    ORDER BY created_at NULLS LAST, customer_id) AS rn
          FROM {w_customers}
          WHERE profile_id IS NOT NULL
        ),
        f AS (SELECT c.*, {firsts} FROM c)
        SELECT profile_id,
          MAX(CASE WHEN rn = 1 THEN customer_id END) AS customer_id,
          {picks},
          MIN(created_at) AS created_at,
          CASE
            WHEN COUNT(accepts_marketing) = 0 THEN NULL
            WHEN COUNT(*) FILTER (WHERE NOT accepts_marketing) = 0 THEN TRUE
            WHEN COUNT(*) FILTER (WHERE NOT accepts_marketing AND decided_at IS NULL) > 0
              THEN FALSE
            WHEN MAX(decided_at) FILTER (WHERE accepts_marketing)
                 > MAX(decided_at) FILTER (WHERE NOT accepts_marketing) THEN TRUE
            ELSE FALSE
          END AS accepts_marketing
        FROM f
        GROUP BY profile_id
        """,
        {"cleaned": cleaned, "firsts": firsts, "picks": picks},
    )


def age_sql() -> str:
    """SQL of ``age``: whole years from ``cust.birth_date`` to the build date."""
    return """
    CASE WHEN cust.birth_date IS NULL OR cust.birth_date > CAST(:as_of AS DATE) THEN NULL
    ELSE EXTRACT(YEAR FROM CAST(:as_of AS DATE)) - EXTRACT(YEAR FROM cust.birth_date)
      - CASE WHEN EXTRACT(MONTH FROM CAST(:as_of AS DATE)) < EXTRACT(MONTH FROM cust.birth_date)
               OR (EXTRACT(MONTH FROM CAST(:as_of AS DATE)) = EXTRACT(MONTH FROM cust.birth_date)
                   AND EXTRACT(DAY FROM CAST(:as_of AS DATE)) < EXTRACT(DAY FROM cust.birth_date))
             THEN 1 ELSE 0 END
    END
    """


def age_band_sql(age: str) -> str:
    """SQL of ``age_band`` for an age expression, from :data:`AGE_BANDS`."""
    whens = []
    for name, low, high in AGE_BANDS:
        cond = f"({age}) >= {low}" + (f" AND ({age}) < {high}" if high is not None else "")
        whens.append(f"WHEN {cond} THEN '{name}'")
    return "CASE " + " ".join(whens) + " END"
