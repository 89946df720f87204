"""Serving many requests at once: dynamic batching of encoder forwards."""
