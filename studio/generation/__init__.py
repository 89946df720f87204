"""Generation: decoding choices, the streamed worker, continuous batching, Stop, tokens."""
