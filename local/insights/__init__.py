"""The dashboard's figures computed locally: DuckDB over the alerts lake, a static page."""
