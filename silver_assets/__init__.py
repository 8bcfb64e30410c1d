"""silver-assets: a Dagster asset pipeline with materialized retrieval snapshots.

Agents import :class:`SilverQueryResource` and call ``SilverQueryResource().query(request)``;
``list_metrics()`` is the metric catalogue and ``verify_claims(text)`` checks a drafted answer's
cited numbers against the snapshots.
"""

from silver_assets.query.answer import InvalidRequest
from silver_assets.query.catalogue import list_metrics
from silver_assets.query.claims import verify_claims
from silver_assets.query.models import MetadataExtraction
from silver_assets.query.resource import SilverQueryResource

__all__ = [
    "InvalidRequest",
    "MetadataExtraction",
    "SilverQueryResource",
    "list_metrics",
    "verify_claims",
]
