"""One module per task tab, named by the task's API name; each has build(ctx)."""
