"""The kinds of training, one module each: what a task trains (model class, tokenizing and
collating, metrics, what is saved). worker.run is the one driver; KINDS (table.py) holds one
row per trainable task, and base.py the types a kind and the driver share (Kind, Run, Parts).

A new kind is one module here (its `prepare(run) -> Parts` and `save(trainer, run, parts)`, and
its data checks when a classifier's do not fit) and one row in table.py.
"""
