"""The demo store's product catalogue: categories, product lines, names, SKUs and prices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import text
from segmint.demo.vocab import ADJECTIVES, CATEGORIES, COLOURS

STORE_URL = "https://shop.segmint-demo.com"
CURRENCY = "USD"


@dataclass(frozen=True)
class Catalogue:
    """Products sorted by category, so each category's products are one contiguous range."""

    product_id: list[str]
    sku: list[str]
    name: list[str]
    category: np.ndarray
    """Category index (into ``vocab.CATEGORIES``) of every product."""
    product_line: list[str]
    price_cents: np.ndarray
    popularity_key: np.ndarray
    """Per product: its category index plus the cumulative popularity share within the category,
    so ``searchsorted(popularity_key, category + u)`` draws a product of that category."""

    def __len__(self) -> int:
        return len(self.product_id)

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in CATEGORIES]

    def draw(self, rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
        """One product of each given category, the popular ones more often."""
        u = rng.random(len(category))
        idx = np.searchsorted(self.popularity_key, category + u, side="right")
        return np.minimum(idx, len(self) - 1)

    def columns(self) -> dict[str, pa.Array]:
        """The catalogue as the canonical ``products`` columns (text)."""
        return {
            "product_id": pa.array(self.product_id, pa.string()),
            "sku": pa.array(self.sku, pa.string()),
            "name": pa.array(self.name, pa.string()),
            "category": text.lookup(self.category_names, self.category),
            "product_line": pa.array(self.product_line, pa.string()),
            "price": text.money(self.price_cents),
            "currency": pa.array([CURRENCY] * len(self), pa.string()),
        }

    def slugs(self) -> list[str]:
        return [
            f"{name.lower().replace(' ', '-')}-{pid[1:]}"
            for name, pid in zip(self.name, self.product_id, strict=True)
        ]

    def event_properties(self) -> pa.Array:
        """Per product, the Segment e-commerce product fields as JSON object members."""
        cats = self.category_names
        return pa.array(
            [
                f'"product_id":"{pid}","sku":"{sku}","name":"{name}","category":"{cats[c]}",'
                f'"brand":"{line}","price":{cents / 100:.2f},"currency":"{CURRENCY}"'
                for pid, sku, name, c, line, cents in zip(
                    self.product_id,
                    self.sku,
                    self.name,
                    self.category.tolist(),
                    self.product_line,
                    self.price_cents.tolist(),
                    strict=True,
                )
            ],
            pa.string(),
        )


def build_catalogue(rng: np.random.Generator, size: int) -> Catalogue:
    """``size`` products spread over the categories by their catalogue share."""
    shares = np.array([c.share for c in CATEGORIES])
    counts = np.maximum(np.round(shares / shares.sum() * size).astype(int), 3)
    counts[0] += size - counts.sum()  # apparel absorbs the rounding
    ids, skus, names, lines, cats, prices, keys = [], [], [], [], [], [], []
    seen: set[str] = set()
    number = 0
    for c, (cat, count) in enumerate(zip(CATEGORIES, counts.tolist(), strict=True)):
        # Log-uniform prices with retail endings (.00, .95, .99).
        dollars = np.exp(rng.uniform(np.log(cat.price_low), np.log(cat.price_high), size=count))
        ending = rng.choice(np.array([0, 95, 99]), size=count, p=[0.3, 0.3, 0.4])
        cents = (
            np.maximum(np.floor(dollars).astype(np.int64), 1) * 100 + ending - 100 * (ending > 0)
        )
        cents = np.maximum(cents, 99)
        # Zipf-like popularity: a few best sellers, a long tail.
        weight = 1.0 / np.arange(1, count + 1) ** 0.9
        rng.shuffle(weight)
        cdf = np.cumsum(weight) / weight.sum()
        cdf[-1] = 1.0
        for k in range(count):
            number += 1
            line = cat.lines[int(rng.integers(len(cat.lines)))]
            while True:
                name = " ".join(
                    (
                        line,
                        ADJECTIVES[int(rng.integers(len(ADJECTIVES)))],
                        cat.nouns[int(rng.integers(len(cat.nouns)))],
                        COLOURS[int(rng.integers(len(COLOURS)))],
                    )
                )
                if name not in seen:
                    break
            seen.add(name)
            ids.append(f"P{number:05d}")
            skus.append(f"{cat.name[:2].upper()}-{line[:3].upper()}-{number:05d}")
            names.append(name)
            lines.append(line)
            cats.append(c)
            prices.append(int(cents[k]))
            keys.append(c + float(cdf[k]))
    return Catalogue(
        product_id=ids,
        sku=skus,
        name=names,
        category=np.array(cats, dtype=np.int64),
        product_line=lines,
        price_cents=np.array(prices, dtype=np.int64),
        popularity_key=np.array(keys),
    )
