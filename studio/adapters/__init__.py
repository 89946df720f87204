"""How each task is run: plain data in, plain data out (see docs/ARCHITECTURE.md, "Results")."""
