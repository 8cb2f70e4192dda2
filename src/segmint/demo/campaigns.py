"""Email campaigns: the store's send calendar and who received, opened and clicked each email.

There is a weekly newsletter and per-category campaigns. A subscribed customer receives a
category campaign more often the more the category interests them, opens with their own open
propensity (less after they have silently churned) and clicks with their own click propensity,
which is higher for the categories they like: so email engagement by category carries signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo.calendar import DAY, HOUR, StoreCalendar
from segmint.demo.catalogue import STORE_URL
from segmint.demo.people import People
from segmint.demo.vocab import CAMPAIGN_THEMES, CATEGORIES

NEWSLETTER = len(CATEGORIES)
"""Category index of the general newsletter."""
_BLOCK = 64  # campaigns considered at once: memory is customers x block


@dataclass(frozen=True)
class Campaigns:
    """The store's email sends over the window, in send order."""

    send_at: np.ndarray
    category: np.ndarray
    """Category index, or NEWSLETTER."""
    properties: pa.Array
    """Per campaign, the members of the email events' properties object."""
    click_properties: pa.Array
    """The same plus the clicked link."""

    def __len__(self) -> int:
        return len(self.send_at)


def build_campaigns(
    rng: np.random.Generator, calendar: StoreCalendar, per_week: float
) -> Campaigns:
    """``per_week`` sends a week on a regular cadence, the newsletter and category campaigns
    taking turns, each a day early or late now and then."""
    count = round(calendar.days / 7 * per_week)
    if count == 0:
        empty = pa.array([], pa.string())
        return Campaigns(np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty)
    interval = calendar.days / count
    day = np.floor((np.arange(count) + 0.5) * interval).astype(np.int64)
    day = np.clip(day + rng.choice(np.array([-1, 0, 0, 0, 1]), size=count), 0, calendar.days - 1)
    # Morning sends in the store's time zone (UTC-5), on the quarter hour.
    send_at = calendar.start + day * DAY + (14 + rng.integers(0, 4, size=count)) * HOUR
    send_at += rng.integers(0, 4, size=count) * 900
    share = np.array([c.share for c in CATEGORIES])
    category = np.where(
        np.arange(count) % 2 == 0,
        NEWSLETTER,
        rng.choice(len(CATEGORIES), size=count, p=share / share.sum()),
    )
    names = [c.name for c in CATEGORIES] + ["newsletter"]
    props, clicks = [], []
    for i, (sent, cat) in enumerate(zip(send_at.tolist(), category.tolist(), strict=True)):
        theme_list = CAMPAIGN_THEMES[names[cat]]
        theme = theme_list[int(rng.integers(len(theme_list)))]
        stamp = np.datetime64(sent, "s").astype("datetime64[D]").item()
        cid = f"cmp_{i + 1:05d}"
        cname = f"{stamp:%Y-%m-%d} {names[cat]} - {theme}"
        subject = theme if cat == NEWSLETTER else f"{theme}: new in {names[cat]}"
        member = (
            f'"campaign_id":"{cid}","campaign_name":"{cname}","email_subject":"{subject}",'
            f'"category":"{names[cat]}","email_id":"{cid}"'
        )
        path = "/" if cat == NEWSLETTER else f"/collections/{names[cat]}"
        props.append(member)
        clicks.append(
            f'{member},"link_url":"{STORE_URL}{path}?utm_source=newsletter&utm_medium=email'
            f'&utm_campaign={cid}"'
        )
    return Campaigns(
        send_at=send_at.astype(np.int64),
        category=category.astype(np.int64),
        properties=pa.array(props, pa.string()),
        click_properties=pa.array(clicks, pa.string()),
    )


@dataclass
class EmailActivity:
    """Email events of one chunk: one entry per delivered, opened or clicked email."""

    customer: np.ndarray
    campaign: np.ndarray
    delivered_at: np.ndarray
    """Milliseconds."""
    opened_at: np.ndarray
    """Milliseconds; -1 when not opened."""
    clicked_at: np.ndarray
    """Milliseconds; -1 when not clicked."""


def simulate_email(
    rng: np.random.Generator,
    people: People,
    campaigns: Campaigns,
    dropped_at: np.ndarray,
    end: int,
) -> EmailActivity:
    """Who received which campaign, and whether and when they opened and clicked it."""
    out_c, out_k = [], []
    for lo in range(0, len(campaigns), _BLOCK):
        sent = campaigns.send_at[lo : lo + _BLOCK]
        cat = campaigns.category[lo : lo + _BLOCK]
        subscribed = (people.created_at[:, None] <= sent[None, :]) & (
            people.accepts_marketing[:, None] | (people.consent_updated_at[:, None] > sent[None, :])
        )
        padded = np.concatenate([people.affinity, np.ones((len(people), 1))], axis=1)
        interest = padded[:, cat]
        target = np.where(cat[None, :] == NEWSLETTER, 0.92, np.clip(0.2 + 1.6 * interest, 0, 0.95))
        got = subscribed & (rng.random(subscribed.shape) < target)
        c, k = np.nonzero(got)
        out_c.append(c)
        out_k.append(k + lo)
    customer = np.concatenate(out_c) if out_c else np.zeros(0, np.int64)
    campaign = np.concatenate(out_k) if out_k else np.zeros(0, np.int64)
    n = len(customer)
    sent_at = campaigns.send_at[campaign]
    delivered = sent_at * 1000 + rng.integers(0, 900_000, size=n)
    cat = campaigns.category[campaign]
    padded = np.concatenate([people.affinity, np.full((len(people), 1), 0.5)], axis=1)
    interest = padded[customer, cat]
    churned = sent_at > dropped_at[customer]
    open_p = (
        people.open_propensity[customer] * (0.7 + 0.9 * interest) * np.where(churned, 0.35, 1.0)
    )
    opened = rng.random(n) < np.clip(open_p, 0, 0.95)
    opened_at = delivered + (rng.exponential(5 * HOUR, size=n) * 1000).astype(np.int64) + 20_000
    opened &= opened_at < end * 1000
    click_p = people.click_propensity[customer] * (0.4 + 2.2 * interest)
    clicked = opened & (rng.random(n) < np.clip(click_p, 0, 0.9))
    clicked_at = opened_at + (rng.exponential(90, size=n) * 1000).astype(np.int64) + 4_000
    clicked &= clicked_at < end * 1000
    return EmailActivity(
        customer=customer.astype(np.int64),
        campaign=campaign.astype(np.int64),
        delivered_at=delivered,
        opened_at=np.where(opened, opened_at, -1),
        clicked_at=np.where(clicked, clicked_at, -1),
    )
