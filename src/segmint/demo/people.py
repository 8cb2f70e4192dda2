"""Customers of the demo store: who they are, and the hidden traits that drive what they do.

A chunk of customers is generated at once, column by column. Besides the ``customers`` table
columns it carries the latent behaviour the other generators read: BG/NBD purchase rate and
dropout probability, category affinity, coupon inclination, basket size, email and web
engagement. Those traits are drawn from population distributions (gamma, beta, Dirichlet), so
the store is heterogeneous the way real customer bases are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import text
from segmint.demo.calendar import DAY, StoreCalendar, sample_hours
from segmint.demo.vocab import (
    CATEGORIES,
    COUNTRY_PHONE,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    GENDERS,
    LAST_NAMES,
    MALE_NAMES,
    MARITAL_STATUSES,
    PLACES,
    WORK_DOMAINS,
)

# BG/NBD population parameters, per day: purchase rate lambda ~ Gamma(R, 1/ALPHA) and dropout
# probability p ~ Beta(A, B). Shape 0.45 gives the long right tail of heavy buyers real stores
# have; mean lambda = 0.45 / 40 per day is about four purchases a year while active.
BGNBD_R, BGNBD_ALPHA, BGNBD_A, BGNBD_B = 0.45, 40.0, 0.7, 2.8
#: Share of customers who have an account (newsletter, wishlist) but never order.
NON_BUYER_SHARE = 0.2
#: Share of customers who opted out of marketing.
OPT_OUT_SHARE = 0.17
#: Share of customers that are a second account of another customer (same person and phone).
SECOND_ACCOUNT_SHARE = 0.03


@dataclass
class People:
    """One chunk of customers: table columns (text) and latent traits (numpy)."""

    index: np.ndarray
    """Global customer number from 0."""
    customer_id: pa.Array
    email: pa.Array
    """The clean address (trimmed, lower-case)."""
    email_raw: pa.Array
    """The address as the store's systems hold it: sometimes mixed case or padded."""
    phone: pa.Array
    first_name: pa.Array
    last_name: pa.Array
    gender: pa.Array
    birth_date: pa.Array
    marital_status: pa.Array
    place: np.ndarray
    """Index into ``vocab.PLACES``."""
    postal_code: pa.Array
    created_at: np.ndarray
    accepts_marketing: np.ndarray
    consent_updated_at: np.ndarray
    second_account_of: np.ndarray
    """Chunk position of the customer's other account, or -1."""
    # Latent behaviour.
    buyer: np.ndarray
    first_purchase_at: np.ndarray
    """When the first order is placed (seconds); past the window end for non-buyers."""
    rate: np.ndarray
    """BG/NBD purchase rate per day of shopping time while active."""
    dropout: np.ndarray
    """BG/NBD probability of becoming inactive after each repeat purchase."""
    affinity: np.ndarray
    """(n, categories) share of interest per category; rows sum to 1."""
    coupon_propensity: np.ndarray
    basket_mean: np.ndarray
    open_propensity: np.ndarray
    click_propensity: np.ndarray
    browse_rate: np.ndarray
    """Browsing sessions per day while engaged."""
    session_depth: np.ndarray
    dwell_seconds: np.ndarray
    cart_propensity: np.ndarray
    devices: np.ndarray
    """1 or 2 devices (browsers) the customer visits from."""

    def __len__(self) -> int:
        return len(self.index)


def customer_ids(index: np.ndarray) -> pa.Array:
    """Customer ids such as ``C00000042`` from global customer numbers (from 0)."""
    return text.prefixed_ids("C", np.asarray(index) + 1, width=8)


def generate_people(
    rng: np.random.Generator,
    calendar: StoreCalendar,
    acquisition_cdf: np.ndarray,
    first_index: int,
    n: int,
) -> People:
    """Customers ``first_index .. first_index + n - 1``."""
    index = np.arange(first_index, first_index + n, dtype=np.int64)
    k = len(CATEGORIES)

    gender_code = rng.choice(4, size=n, p=[0.52, 0.45, 0.015, 0.015])  # 3 = not recorded
    female_pick = rng.integers(len(FEMALE_NAMES), size=n)
    male_pick = rng.integers(len(MALE_NAMES), size=n)
    use_female = (gender_code == 0) | ((gender_code >= 2) & (rng.random(n) < 0.5))
    first = pc.if_else(
        pa.array(use_female),
        text.lookup(FEMALE_NAMES, female_pick),
        text.lookup(MALE_NAMES, male_pick),
    )
    last = text.lookup(LAST_NAMES, rng.integers(len(LAST_NAMES), size=n))
    age_days = (np.clip(rng.normal(38, 13, size=n), 18, 88) * 365.25 * DAY).astype(np.int64)
    birth = calendar.end - age_days - rng.integers(0, 365 * DAY, size=n)
    birth_text = pc.if_else(pa.array(rng.random(n) < 0.12), None, text.dates(birth))
    marital_code = rng.choice(
        len(MARITAL_STATUSES) + 1, size=n, p=[0.3, 0.4, 0.08, 0.03, 0.04, 0.15]
    )

    weights = np.array([p.weight for p in PLACES])
    place = rng.choice(len(PLACES), size=n, p=weights / weights.sum())

    created = sample_hours(rng, calendar, acquisition_cdf, n)

    # A few customers are the second account of someone earlier in the chunk: the same person
    # (name, birth date, address, phone) signed up again with another email.
    second_of = np.full(n, -1, dtype=np.int64)
    if n > 10:
        dup = np.flatnonzero(rng.random(n) < SECOND_ACCOUNT_SHARE)
        dup = dup[dup > 0]
        second_of[dup] = (rng.random(len(dup)) * dup).astype(np.int64)
        # A primary that is itself a second account points further back to the original person.
        for _ in range(3):
            chained = second_of[second_of[dup]] >= 0
            second_of[dup[chained]] = second_of[second_of[dup[chained]]]
    same = second_of >= 0
    src = np.where(same, second_of, np.arange(n))
    first = first.take(pa.array(src))
    last = last.take(pa.array(src))
    gender_code = gender_code[src]
    birth_text = birth_text.take(pa.array(src))
    marital_code = marital_code[src]
    place = place[src]
    # The second account is opened after the first one.
    created = np.where(same, np.maximum(created, created[src] + DAY), created)
    created = np.minimum(created, calendar.end - 3_600)

    phone_pick = _phones(rng, place, n)
    phone_pick = phone_pick.take(pa.array(src))
    # Same number, sometimes written differently on the second account.
    phone = _phone_text(rng, place, phone_pick)
    no_phone = rng.random(n) < 0.07
    no_phone[same] = False
    no_phone[second_of[same]] = False  # both accounts of a person keep the number that links them
    phone = pc.if_else(pa.array(no_phone), None, phone)

    email, email_raw = _emails(rng, index, first, last, same)

    opted_out = rng.random(n) < OPT_OUT_SHARE
    consent_at = np.where(
        opted_out,
        created + (rng.random(n) * (calendar.end - created)).astype(np.int64),
        created,
    )

    buyer = rng.random(n) >= NON_BUYER_SHARE
    later = rng.random(n) < 0.15
    first_purchase = created + np.where(
        later, rng.exponential(30 * DAY, size=n).astype(np.int64), rng.integers(0, 120, size=n)
    )
    first_purchase = np.where(buyer, first_purchase, np.iinfo(np.int64).max // 2)

    rate = np.minimum(rng.gamma(BGNBD_R, 1.0 / BGNBD_ALPHA, size=n), 0.5)
    dropout = rng.beta(BGNBD_A, BGNBD_B, size=n)

    base = np.array([c.share for c in CATEGORIES])
    affinity = rng.dirichlet(base / base.sum() * 1.2, size=n) if n else np.zeros((0, k))

    return People(
        index=index,
        customer_id=customer_ids(index),
        email=email,
        email_raw=email_raw,
        phone=phone,
        first_name=first,
        last_name=last,
        gender=text.lookup(GENDERS, np.where(gender_code == 3, -1, gender_code)),
        birth_date=birth_text,
        marital_status=text.lookup(
            MARITAL_STATUSES, np.where(marital_code == len(MARITAL_STATUSES), -1, marital_code)
        ),
        place=place,
        postal_code=_postal_codes(rng, place),
        created_at=created,
        accepts_marketing=~opted_out,
        consent_updated_at=consent_at,
        second_account_of=second_of,
        buyer=buyer,
        first_purchase_at=first_purchase,
        rate=rate,
        dropout=dropout,
        affinity=affinity,
        coupon_propensity=rng.beta(0.6, 2.4, size=n),
        basket_mean=1.0 + rng.gamma(1.2, 0.6, size=n),
        open_propensity=rng.beta(2.0, 5.0, size=n),
        click_propensity=rng.beta(1.2, 7.0, size=n),
        # Heavy buyers browse more; the mean is one session every 25 days while engaged.
        browse_rate=rng.gamma(0.6, 1.0 / (0.6 * 25.0), size=n)
        * (0.4 + 0.6 * rate / (BGNBD_R / BGNBD_ALPHA)),
        session_depth=rng.gamma(2.0, 2.0, size=n),
        dwell_seconds=np.exp(rng.normal(np.log(45.0), 0.75, size=n)),
        cart_propensity=rng.beta(1.5, 6.0, size=n),
        devices=1 + (rng.random(n) < 0.35),
    )


def _phones(rng: np.random.Generator, place: np.ndarray, n: int) -> pa.Array:
    """National significant numbers (area code + subscriber digits), no formatting."""
    codes = [code for p in PLACES for code in p.area_codes]
    starts = np.cumsum([0] + [len(p.area_codes) for p in PLACES])
    counts = np.array([len(p.area_codes) for p in PLACES])
    area = starts[place] + (rng.random(n) * counts[place]).astype(np.int64)
    width = np.array([COUNTRY_PHONE[p.country][1] for p in PLACES])[place]
    sub7 = text.digits(rng, n, 7, first_nonzero=True)
    sub = pc.if_else(pa.array(width == 7), sub7, pc.utf8_slice_codeunits(sub7, 0, 6))
    return text.concat(text.lookup(codes, area), sub)


def _phone_text(rng: np.random.Generator, place: np.ndarray, nsn: pa.Array) -> pa.Array:
    """Numbers written the many ways customers type them: national and international."""
    country = np.array([p.country for p in PLACES])[place]
    calling = pa.array([COUNTRY_PHONE[c][0] for c in country.tolist()], pa.string())
    n = len(place)
    nanp = (country == "US") | (country == "CA")
    area = pc.utf8_slice_codeunits(nsn, 0, 3)
    area = pc.if_else(pa.array(country == "GB"), pc.utf8_slice_codeunits(nsn, 0, 4), area)
    rest = pc.if_else(
        pa.array(country == "GB"),
        pc.utf8_slice_codeunits(nsn, 4),
        pc.utf8_slice_codeunits(nsn, 3),
    )
    r3, r4 = pc.utf8_slice_codeunits(rest, 0, 3), pc.utf8_slice_codeunits(rest, 3)
    e164 = text.concat("+", calling, nsn)
    spaced = text.concat("+", calling, " ", area, " ", rest)
    nanp_formats = [
        text.concat("(", area, ") ", r3, "-", r4),
        text.concat(area, "-", r3, "-", r4),
        text.concat("+1 ", area, " ", r3, " ", r4),
        e164,
        text.concat("1-", area, "-", r3, "-", r4),
    ]
    other_formats = [
        text.concat("0", area, " ", rest),
        text.concat("0", nsn),
        spaced,
        e164,
        text.concat("0", area, " ", rest),
    ]
    choice = pa.array(rng.choice(5, size=n, p=[0.35, 0.2, 0.15, 0.2, 0.1]).astype(np.int8))
    nanp_text = pc.choose(choice, *nanp_formats)
    other_text = pc.choose(choice, *other_formats)
    return pc.if_else(pa.array(nanp), nanp_text, other_text)


def _postal_codes(rng: np.random.Generator, place: np.ndarray) -> pa.Array:
    """Postal codes filled in from each place's pattern (# = digit, @ = letter)."""
    patterns = [p.postal for p in PLACES]
    width = max(len(p) for p in patterns)
    n = len(place)
    chars = np.full((n, width), ord(" "), dtype=np.uint8)
    pattern_bytes = np.array([list(p.ljust(width).encode()) for p in patterns], dtype=np.uint8)
    template = pattern_bytes[place]
    random_digit = rng.integers(ord("0"), ord("9") + 1, size=(n, width), dtype=np.uint8)
    random_letter = rng.integers(ord("A"), ord("Z") + 1, size=(n, width), dtype=np.uint8)
    chars = np.where(template == ord("#"), random_digit, template)
    chars = np.where(template == ord("@"), random_letter, chars)
    return pc.utf8_rtrim(text.fixed_width(chars.astype(np.uint8)), characters=" ")


def _emails(
    rng: np.random.Generator, index: np.ndarray, first: pa.Array, last: pa.Array, second: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    n = len(index)
    f, last_lower = pc.utf8_lower(first), pc.utf8_lower(last)
    # A bijective scramble of the customer number makes every address unique without looking
    # sequential (gcd(7919, 10**8) = 1, so distinct numbers below 10**8 stay distinct).
    tag = text.integers((index * 7919 + 1_234_567) % 100_000_000)
    locals_ = [
        text.concat(f, ".", last_lower, tag),
        text.concat(pc.utf8_slice_codeunits(f, 0, 1), last_lower, tag),
        text.concat(f, "_", last_lower, tag),
        text.concat(last_lower, ".", f, tag),
        text.concat(f, tag),
    ]
    local = pc.choose(
        pa.array(rng.choice(5, size=n, p=[0.4, 0.2, 0.1, 0.1, 0.2]).astype(np.int8)), *locals_
    )
    domain = text.lookup(EMAIL_DOMAINS, rng.integers(len(EMAIL_DOMAINS), size=n))
    work = text.lookup(WORK_DOMAINS, rng.integers(len(WORK_DOMAINS), size=n))
    domain = pc.if_else(pa.array(second), work, domain)
    email = text.concat(local, "@", domain)
    # As stored by the shop: some typed with capitals, a few with stray spaces.
    mixed = rng.random(n)
    raw = pc.if_else(pa.array(mixed < 0.04), pc.utf8_title(email), email)
    raw = pc.if_else(pa.array((mixed >= 0.04) & (mixed < 0.05)), text.concat(" ", email), raw)
    raw = pc.if_else(pa.array((mixed >= 0.05) & (mixed < 0.06)), text.concat(email, "  "), raw)
    return email, raw
