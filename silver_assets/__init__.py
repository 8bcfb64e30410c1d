"""silver-assets: a Dagster asset pipeline with materialized retrieval snapshots.

Agents import :class:`SilverQueryResource` and call ``SilverQueryResource().query(request)``;
``list_metrics()`` is the metric catalogue and ``verify_claims(text)`` checks a drafted answer's
cited numbers against the snapshots.
"""

import warnings

from dagster import BetaWarning, PreviewWarning

# Dagster is pinned and the beta/preview features used here are tested (README: Design), so
# their notices would only be noise for users. Filtered at the package root, before any
# definition is built, so the code location, the CLI and the tests are all quiet.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

from silver_assets.query.answer import InvalidRequest  # noqa: E402
from silver_assets.query.catalogue import list_metrics  # noqa: E402
from silver_assets.query.claims import verify_claims  # noqa: E402
from silver_assets.query.models import MetadataExtraction  # noqa: E402
from silver_assets.query.resource import SilverQueryResource  # noqa: E402

__all__ = [
    "InvalidRequest",
    "MetadataExtraction",
    "SilverQueryResource",
    "list_metrics",
    "verify_claims",
]
