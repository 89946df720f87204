"""Fine-tuning, split by concern: config (TrainingConfig), store (run folders), launcher (commands),
jobs (queue and supervisor), data, catalogue, prepare, and the worker with its helpers."""
