"""Models: load settings, loading, the cache, the Hub, downloads, GGUF and remote engines."""
