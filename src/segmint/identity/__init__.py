"""Identity resolution: one person, one ``profile_id``.

Identifiers from every source table (customer ids, emails, phone numbers, anonymous ids and
Segment aliases) are joined into a graph; each connected component is one person. The result is
the ``identities`` table and :func:`resolved_records`, which the profile builder reads.

>>> from segmint.identity import build_identity, resolved_records    # doctest: +SKIP
>>> build_identity(ws.engine, ws.config.identity).profiles             # doctest: +SKIP
>>> ws.engine.fetch_arrow(resolved_records("orders"))                 # doctest: +SKIP
"""

from segmint.identity.build import build_identity
from segmint.identity.errors import IdentityError
from segmint.identity.explain import IdentityExplanation, explain_identity, guarded_identifiers
from segmint.identity.resolve import resolved_records
from segmint.identity.result import IdentityResult
from segmint.identity.tables import ID_TYPES

__all__ = [
    "ID_TYPES",
    "IdentityError",
    "IdentityExplanation",
    "IdentityResult",
    "build_identity",
    "explain_identity",
    "guarded_identifiers",
    "resolved_records",
]
