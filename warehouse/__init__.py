"""The DuckDB warehouse: connection, schema migrations, SQL files, lake loaders and UDFs."""
from warehouse.connection import connect, open_warehouse
from warehouse.sql_files import sql

__all__ = ["connect", "open_warehouse", "sql"]
