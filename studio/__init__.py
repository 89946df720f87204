"""Transformers Studio logic: config, task table, model cache, adapters. Never imports gradio."""
