"""silver-assets: a Dagster asset pipeline with materialized retrieval snapshots.

Agents import :class:`SilverQueryResource` and call ``SilverQueryResource().query(request)``.
"""

from silver_assets.query.answer import InvalidRequest
from silver_assets.query.catalogue import list_metrics
from silver_assets.query.models import MetadataExtraction
from silver_assets.query.resource import SilverQueryResource

__all__ = ["InvalidRequest", "MetadataExtraction", "SilverQueryResource", "list_metrics"]
