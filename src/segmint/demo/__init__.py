"""A synthetic e-commerce store to try segmint on: ``segmint demo-data`` and
:func:`generate_store` write its import files (products, customers, orders and line items, a
Shopify orders export, Segment events, reviews, tickets) and a manifest listing them."""

from segmint.demo.store import (
    DEFAULT_END_DATE,
    DEFAULT_EVENTS_PER_CUSTOMER,
    MANIFEST,
    DemoManifest,
    ManifestFile,
    generate_store,
)

__all__ = [
    "DEFAULT_END_DATE",
    "DEFAULT_EVENTS_PER_CUSTOMER",
    "MANIFEST",
    "DemoManifest",
    "ManifestFile",
    "generate_store",
]
