"""Customer profiles: one row per person with every trait a marketer segments on.

>>> from segmint.profiles import build_profiles, profile_summary   # doctest: +SKIP
>>> build_profiles(ws.engine, ws.config).profiles                  # doctest: +SKIP
>>> profile_summary(ws.engine).rfm_segments["Champions"]           # doctest: +SKIP

The tables, traits and rules are documented in ``docs/profiles.md``, generated from
:mod:`segmint.profiles.catalogue`.
"""

from segmint.profiles.build import build_profiles, normalize_as_of
from segmint.profiles.catalogue import (
    LIFECYCLE_STAGES,
    RFM_SEGMENTS,
    ExtensionContext,
    ProfileExtension,
    Trait,
    profile_traits,
    register_extension,
)
from segmint.profiles.export import export_profiles
from segmint.profiles.show import show_profile
from segmint.profiles.summary import profile_summary
from segmint.profiles.types import (
    BuildIssues,
    ExportResult,
    ProfileBuildResult,
    ProfilesError,
    ProfileSummary,
    ProfileView,
)

__all__ = [
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "BuildIssues",
    "ExportResult",
    "ExtensionContext",
    "ProfileBuildResult",
    "ProfileExtension",
    "ProfileSummary",
    "ProfileView",
    "ProfilesError",
    "Trait",
    "build_profiles",
    "export_profiles",
    "normalize_as_of",
    "profile_summary",
    "profile_traits",
    "register_extension",
    "show_profile",
]

# Built-in extensions: their traits are columns of every workspace's profile table. Each
# registers itself when imported; imported last, because they build on the catalogue above
# (and by name only, so importing the extension first works too).
import segmint.clv.traits  # noqa: F401
