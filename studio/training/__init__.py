"""Fine-tuning: run dirs and the job queue (jobs), the Trainer script (worker), data and metrics."""
