"""Turning raw text into identifiers: emails in SQL, phone numbers with ``phonenumbers``.

Emails are normalised inside the engine. Phone numbers need Google's libphonenumber rules,
which only exist as a Python library here, so :func:`parse_new_phones` sends the engine's
*distinct* raw values not parsed before, in batches, through ``phonenumbers`` and stores the
answers in the ``identity_phone_lookup`` table; the records themselves are then normalised by
a join in SQL. An incremental run parses only phone texts it has never seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from segmint.engines.base import Engine
from segmint.identity.sql import statement
from segmint.identity.tables import TableNames

#: Mailbox providers whose addresses ignore dots and ``+tags`` in the local part.
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")

#: Distinct phone texts parsed per batch (bounded memory on the Python side).
PHONE_BATCH = 50_000


def email_sql(value: exp.Expr, *, provider_rules: bool) -> exp.Expr:
    """The normalised form of an email column: trimmed, lower-cased, provider rules optional."""
    email = exp.Lower(this=exp.Trim(this=value))
    if not provider_rules:
        return email
    local = exp.SplitPart(
        this=email.copy(), delimiter=exp.Literal.string("@"), part_index=exp.Literal.number(1)
    )
    domain = exp.SplitPart(
        this=email.copy(), delimiter=exp.Literal.string("@"), part_index=exp.Literal.number(2)
    )
    untagged = exp.SplitPart(
        this=local, delimiter=exp.Literal.string("+"), part_index=exp.Literal.number(1)
    )
    undotted = exp.func("replace", untagged, exp.Literal.string("."), exp.Literal.string(""))
    gmail = exp.DPipe(this=undotted, expression=exp.Literal.string("@gmail.com"), safe=True)
    is_gmail = exp.In(this=domain, expressions=[exp.Literal.string(d) for d in GMAIL_DOMAINS])
    # Only addresses with exactly one "@" are rewritten; anything else is left to be rejected.
    single_at = exp.Not(this=exp.Like(this=email.copy(), expression=exp.Literal.string("%@%@%")))
    return exp.Case().when(exp.and_(is_gmail, single_at), gmail).else_(email)


def email_is_valid_sql(email: exp.Expr) -> exp.Expr:
    """Whether a normalised email looks like an address: one ``@``, a dotted domain, no spaces."""
    return exp.and_(
        exp.Like(this=email.copy(), expression=exp.Literal.string("%_@_%._%")),
        exp.Not(this=exp.Like(this=email.copy(), expression=exp.Literal.string("%@%@%"))),
        exp.Not(this=exp.Like(this=email.copy(), expression=exp.Literal.string("% %"))),
    )


def normalize_email(value: str, *, provider_rules: bool) -> str:
    """The Python twin of :func:`email_sql`, for looking up one identifier a user typed."""
    email = value.strip().lower()
    if provider_rules and email.count("@") == 1:
        local, domain = email.split("@")
        if domain in GMAIL_DOMAINS:
            return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return email


def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number.

    >>> normalize_phone("(415) 555-0100", "US")   # doctest: +SKIP
    '+14155550100'
    """
    import phonenumbers

    text = raw.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def parse_new_phones(engine: Engine, names: TableNames, raw_table: str) -> int:
    """Parse the distinct (phone text, region) pairs of ``raw_table`` not in the lookup yet.

    ``raw_table`` has columns ``id_type``, ``raw`` (trimmed text) and ``region``. Returns how
    many distinct values were parsed.
    """
    query = statement(
        """
        SELECT DISTINCT r.raw, r.region FROM {raw} AS r
        WHERE r.id_type = 'phone' AND NOT EXISTS (
            SELECT 1 FROM {phone_lookup} AS l WHERE l.raw = r.raw AND l.region = r.region)
        """,
        {**names.mapping(), "raw": raw_table},
    )
    pending = engine.fetch_arrow(query)
    for start in range(0, pending.num_rows, PHONE_BATCH):
        chunk = pending.slice(start, PHONE_BATCH)
        raws = chunk.column("raw").to_pylist()
        regions = chunk.column("region").to_pylist()
        parsed = [normalize_phone(r, g) for r, g in zip(raws, regions, strict=True)]
        engine.load_arrow(
            names.phone_lookup,
            pa.table(
                {
                    "raw": pa.array(raws, pa.string()),
                    "region": pa.array(regions, pa.string()),
                    "e164": pa.array(parsed, pa.string()),
                }
            ),
        )
    return int(pending.num_rows)


def deny_condition(value: exp.Expr, deny_list: Sequence[str], default_region: str) -> exp.Expr:
    """A condition true when an identifier value is on the deny list (see IdentityConfig)."""
    lowered = exp.Lower(this=value)
    terms: list[exp.Expr] = []
    exact: set[str] = set()
    for entry in deny_list:
        text = entry.strip().lower()
        if "*" in text:
            pattern = (
                text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
            )
            terms.append(
                exp.Escape(
                    this=exp.Like(this=lowered.copy(), expression=exp.Literal.string(pattern)),
                    expression=exp.Literal.string("\\"),
                )
            )
            continue
        exact.add(text)
        phone = normalize_phone(entry, default_region)
        if phone:
            exact.add(phone.lower())
    if exact:
        terms.append(
            exp.In(this=lowered.copy(), expressions=[exp.Literal.string(v) for v in sorted(exact)])
        )
    if not terms:
        return exp.false()
    return exp.or_(*terms)
