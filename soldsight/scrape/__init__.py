"""Scraping sold listings from the marketplace's search and item pages, politely, through the proxy pool."""
