"""The Fine-tune page's labels for fields named as in TrainingArguments, peft and optuna (the
config and the API keep those names). A field's help line adds "API: <name>"
(components/widgets.py), so the name the docs use is still on the page.
"""

LABELS = {
    "num_train_epochs": "Epochs",
    "per_device_train_batch_size": "Batch size (per process)",
    "learning_rate": "Learning rate",
    "warmup_ratio": "Warm-up share",
    "weight_decay": "Weight decay",
    "gradient_accumulation_steps": "Gradient accumulation steps",
    "seed": "Seed",
    "max_length": "Longest text (tokens)",
    "num_processes": "Processes",
    "precision": "Precision",
    "load_best_model_at_end": "Keep the best epoch",
    "hub_model_id": "Hub repository",
    "lora_r": "LoRA rank",
    "lora_alpha": "LoRA alpha",
    "lora_dropout": "LoRA dropout",
    "lora_target_modules": "Layers to adapt (empty: the architecture's default)",
    "search_trials": "Trials (0: no search)",
    "search_learning_rate_min": "Lowest learning rate",
    "search_learning_rate_max": "Highest learning rate",
    "search_batch_sizes": "Batch sizes",
    "search_epochs_min": "Fewest epochs",
    "search_epochs_max": "Most epochs",
    "search_objective": "Optimize",
}
