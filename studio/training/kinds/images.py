"""Image classification from a zip of class folders: the base model's image processor, a new
head for the classes (the folder names, sorted), accuracy and F1, and the model saved with its
class names and processor, so the Image classification tab serves it as it serves any model."""

from __future__ import annotations

from typing import Any

from studio.training import archives
from studio.training.data import ordered_labels
from studio.training.files import write_json
from studio.training.kinds.base import Parts, Run
from studio.training.kinds.classification import predicted_ids, with_new_head
from studio.training.metrics import compute_metrics_for
from studio.training.worker_log import say


def guess_columns(columns: list[str]) -> tuple[str | None, str | None]:
    return archives.IMAGE_COLUMN, archives.LABEL_COLUMN


def read_upload(path: Any) -> Any:
    """A request's look at the zip: its images' names and classes (no image is read)."""
    return archives.listing(path)


def read_whole(path: Any, cache_dir: Any) -> Any:
    """The worker's: the zip extracted safely and loaded with the "imagefolder" loader."""
    return archives.load(path, cache_dir)


def problems(table: Any, text_column: str, label_column: str) -> list[str]:
    """At least two classes, each a folder of images (the images themselves are never decoded here)."""
    if label_column not in table.column_names:
        return [f"no {label_column!r} column: upload a .zip with one folder of images per class"]
    classes = sorted({str(name) for name in table[label_column]})
    if len(classes) < 2:
        only = f" ({classes[0]!r})" if classes else ""
        return [f"only one class folder{only}: a classifier needs at least two"]
    return []


class ImageCollator:
    """Stacks a batch's pixel values and labels."""

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        return {
            "pixel_values": torch.stack([feature["pixel_values"] for feature in features]),
            "labels": torch.tensor([feature["labels"] for feature in features]),
        }


def transformed(table: Any, processor: Any, label2id: dict[str, int]) -> Any:
    """The table with images turned into pixel values as they are read (nothing decoded up front)."""

    def transform(batch: dict[str, list[Any]]) -> dict[str, Any]:
        pixels = processor(images=[image.convert("RGB") for image in batch["image"]], return_tensors="pt")
        return {"pixel_values": pixels["pixel_values"], "labels": [label2id[str(n)] for n in batch["label"]]}

    return table.with_transform(transform)


def prepare(run: Run) -> Parts:
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    config = run.config
    if not config.labels:
        config.labels = ordered_labels(run.counts, config.task)
        if run.main_process:
            run.folder.write_config(config)
    labels = config.labels
    label2id = {name: index for index, name in enumerate(labels)}
    id2label = dict(enumerate(labels))
    processor = AutoImageProcessor.from_pretrained(run.model_path)  # type: ignore[no-untyped-call]  # transformers leaves it unannotated
    train_set = transformed(run.train_table, processor, label2id)
    eval_set = transformed(run.eval_table, processor, label2id)
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation images, classes {labels}")
    model = with_new_head(AutoModelForImageClassification, run.model_path, labels, run.main_process)
    return Parts(
        model,
        processor,
        train_set,
        eval_set,
        ImageCollator(),
        compute_metrics=compute_metrics_for(config.task, id2label),
        preprocess_logits=predicted_ids,
        arguments={"remove_unused_columns": False},  # the transform needs the image column
    )


def save(trainer: Any, run: Run, parts: Parts) -> None:
    """model/: the weights, image processor and class names (config.json's id2label)."""
    model_dir = run.folder.model
    trainer.save_model(str(model_dir))
    config = run.config
    write_json(model_dir / "studio_run.json", {"run_id": config.run_id, "task": config.task, "labels": config.labels})
