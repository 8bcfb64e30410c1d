"""The six metric families as partitioned assets computed with DuckDB."""
