"""How each task is run: plain data in, plain data out (the raw output of DESIGN.md)."""
