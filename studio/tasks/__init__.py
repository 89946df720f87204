"""The task machinery (Task, name resolution) and the task table."""
