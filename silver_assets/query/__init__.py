"""Answering agents: MetadataExtraction in, cited numbers out, from materialized snapshots."""
