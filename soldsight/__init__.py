"""soldsight: identify an item from a photo and price it from comparable sold listings."""
__version__ = "0.1.0"
