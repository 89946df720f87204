"""The Gradio layer: one module per tab, plus the shared pieces every tab reuses."""
