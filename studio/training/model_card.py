"""A run's model card (README.md in the saved model's folder, so it goes to the Hub with it) and
the "Push to the Hub" action on a finished run.

The card says what a reader of the Hub page needs to trust the model: the base model, the data
(the file's name or the bundled sample, rows, labels), the settings (hyperparameters, LoRA) and
the final metrics. It never names a server path or the token: the data is named by its
`data.name`, the base model by its public id. The token lives in memory for the one upload.
See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.models.hub import hub_is_offline
from studio.training.config import TrainingConfig
from studio.training.files import read_json
from studio.training.store import RunFolder
from studio.training.worker_log import say

CARD = "README.md"
# The settings the card lists, in TrainingArguments' names (config.json's "training" section).
SETTINGS = (
    "learning_rate",
    "num_train_epochs",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "warmup_ratio",
    "weight_decay",
    "max_length",
    "max_train_samples",
    "precision",
    "seed",
)
LORA = ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "merge_adapter")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "(architecture default)" if value in ("", None) else str(value)


def _table(rows: list[tuple[str, Any]], heading: tuple[str, str]) -> list[str]:
    lines = [f"| {heading[0]} | {heading[1]} |", "|---|---|"]
    return lines + [f"| {name} | {_value(value)} |" for name, value in rows]


def model_folder(folder: RunFolder) -> Path | None:
    """The folder a push uploads: the full (or merged) model, else a LoRA run's adapter."""
    for path in (folder.model, folder.adapter):
        if path.is_dir():
            return path
    return None


def card_text(folder: RunFolder, result: dict[str, Any] | None = None, repo: str | None = None) -> str:
    """The model card of a finished run, in Markdown with the Hub's metadata header."""
    config = folder.read_config()
    result = result if result is not None else read_json(folder.result, {}) or {}
    base = str(config.base_model or "")
    name = repo or f"studio-{config.run_id}"
    header = ["---", "library_name: transformers", f"pipeline_tag: {config.task}", "tags:", "- transformers-studio"]
    if base.count("/") == 1 and " " not in base:  # a Hub id (a local model is named by its label only)
        header.append(f"base_model: {base}")
    lines = [*header, "---", "", f"# {name}", ""]
    lines += [f"Fine-tuned from **{base}** for {config.task} with Transformers Studio (run `{config.run_id}`).", ""]

    rows = result.get("rows") or {}
    data = config.data.name or (f"bundled {config.data.sample} set" if config.data.sample else "an uploaded file")
    lines += ["## Data", "", f"- Source: {data}"]
    if rows:
        lines.append(f"- Rows: {rows.get('train', '?')} for training, {rows.get('eval', '?')} for evaluation")
    lines.append(f"- Columns: `{config.text_column}` (input), `{config.label_column}` (target)")
    if config.labels:
        lines.append(f"- Labels ({len(config.labels)}): {', '.join(config.labels)}")

    training = config.training.model_dump()
    lines += ["", "## Settings", "", *_table([(key, training.get(key)) for key in SETTINGS], ("setting", "value"))]
    if config.lora is not None and config.lora.use_lora:
        lora = config.lora.model_dump()
        lines += ["", "LoRA adapters (peft):", "", *_table([(key, lora[key]) for key in LORA], ("setting", "value"))]

    metrics = result.get("final_metrics") or {}
    shown = [(key, value) for key, value in metrics.items() if not key.endswith(("runtime", "_per_second"))]
    lines += ["", "## Final metrics (evaluation set)", ""]
    lines += _table(shown, ("metric", "value")) if shown else ["No final metrics were recorded."]
    if (folder.model / "config.json").is_file():
        usage = f'pipeline("{config.task}", model="{name}")'
        lines += ["", "## Use it", "", "```python", "from transformers import pipeline", "", f"pipe = {usage}", "```"]
    return "\n".join(lines) + "\n"


def write_card(folder: RunFolder, result: dict[str, Any] | None = None, repo: str | None = None) -> Path | None:
    """Write README.md into the run's model folder (and its adapter folder); the model's card path."""
    written = None
    text = card_text(folder, result, repo)
    for path in (folder.model, folder.adapter):
        if path.is_dir():
            (path / CARD).write_text(text, encoding="utf-8")
            written = written or path / CARD
    return written


def push_to_hub(model_dir: Path, config: TrainingConfig, token: str | None) -> dict[str, str]:
    """Upload the model folder with the token given for this run, never the stored login or the
    environment's: without one, refuse before anything is sent (the token is never logged)."""
    repo = config.hub_model_id or f"studio-{config.run_id}"
    if not token:
        message = "Not pushed to the Hub: no Hub token was given for this run; the model is saved in the app."
        say(message)
        return {"repo": repo, "error": message}
    from huggingface_hub import HfApi

    try:
        api = HfApi(token=token)
        api.create_repo(repo, exist_ok=True, private=True)
        url = api.upload_folder(folder_path=str(model_dir), repo_id=repo)
        say(f"pushed to the Hub: {repo}")
        return {"repo": repo, "url": str(url)}
    except Exception as exc:  # the run itself succeeded; say why the upload did not
        reason = "the token was refused" if "401" in str(exc) or "403" in str(exc) else "the Hub could not be reached"
        message = f"Could not push to the Hub ({reason}); the model is saved in the app."
        say(message)
        return {"repo": repo, "error": message}


def push_run(folder: RunFolder, token: str | None, repo: str | None = None) -> dict[str, str]:
    """Upload a completed run's model with its card, with the token given for this push only.

    Returns {"repo", "url"}; every reason it cannot is one sentence (UserError)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]  # lazily exported, not re-exported

    run_id = folder.path.name
    state = folder.read_status().get("status")
    if state != "completed":
        raise UserError(f"Run {run_id} is {state}; only a completed run can be pushed to the Hub.")
    model_dir = model_folder(folder)
    if model_dir is None:
        raise UserError(f"Run {run_id} has no model to push (a search keeps none); train with its best settings.")
    if not token:
        raise UserError("Pushing to the Hub needs a Hub token with write access for this push; paste one.")
    if hub_is_offline():
        raise UserError(
            "Pushing to the Hub needs internet access and this app runs offline (HF_HUB_OFFLINE=1); "
            "the model stays saved in the app."
        )
    config = folder.read_config()
    config.hub_model_id = (repo or "").strip() or config.hub_model_id or f"studio-{run_id}"
    try:
        validate_repo_id(config.hub_model_id)
    except HFValidationError:
        raise UserError(f"{config.hub_model_id!r} is not a Hub repo name; write it like you/my-model.") from None
    write_card(folder, repo=config.hub_model_id)
    pushed = push_to_hub(model_dir, config, token)
    if "error" in pushed:
        raise UserError(pushed["error"])
    folder.say(f"pushed to the Hub: {pushed['repo']}")
    return pushed
