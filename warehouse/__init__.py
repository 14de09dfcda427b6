"""The DuckDB side of aispend: migrations, connections, and the SQL the pipeline and dashboard run."""
