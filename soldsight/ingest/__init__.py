"""Ingestion of scraper exports of sold listings into the lake and the warehouse."""
