"""The task table: every task the studio knows, as data (like transformers' SUPPORTED_TASKS).

Adding a task is one row here, one adapter function (`studio/adapters/<modality>.py`,
named by the API name), one tab module (`components/tabs/<api name>.py`) and a
models.yaml entry. A row whose adapter is not built yet is skipped by the UI, but
models.yaml entries for it are still validated.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Modality = Literal["text", "generate", "vision", "audio", "multimodal"]
MODALITY_TITLES: dict[str, str] = {
    "text": "Text",
    "generate": "Generate",
    "vision": "Vision",
    "audio": "Audio",
    "multimodal": "Multimodal",
}


@dataclass(frozen=True)
class Task:
    """How one task is loaded and run.

    `pipeline_task` set: the model is loaded as `transformers.pipeline(pipeline_task)`.
    Otherwise `model_class` (a transformers Auto class) and `processor_class` are loaded.
    The adapter is the function `studio.adapters.<modality>.<api_name>`: it takes
    (loaded, **inputs) and returns the raw output documented in DESIGN.md. The "Show code"
    builder is `studio.codegen.<modality>.<api_name>`. Until the adapter exists, the task
    is not offered.
    """

    id: str
    modality: Modality
    title: str
    model_class: str
    pipeline_task: str | None = None
    processor_class: str = "AutoTokenizer"

    @property
    def api_name(self) -> str:
        return self.id.replace("-", "_")

    @property
    def available(self) -> bool:
        return self.adapter_function() is not None

    def adapter_function(self) -> Callable[..., Any] | None:
        """The function that runs the task (imported on first use), or None if not built yet."""
        return _find(f"studio.adapters.{self.modality}", self.api_name)

    def code_function(self) -> Callable[..., str] | None:
        """The "Show code" snippet builder, or None."""
        return _find(f"studio.codegen.{self.modality}", self.api_name)


def _find(module_name: str, function_name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    return getattr(module, function_name, None)


def _rows(*tasks: Task) -> dict[str, Task]:
    return {task.id: task for task in tasks}


TASKS: dict[str, Task] = _rows(
    # Text
    Task(
        "text-classification",
        "text",
        "Text classification",
        "AutoModelForSequenceClassification",
        pipeline_task="text-classification",
    ),
    Task(
        "token-classification",
        "text",
        "Named entities",
        "AutoModelForTokenClassification",
        pipeline_task="token-classification",
    ),
    Task("question-answering", "text", "Question answering", "AutoModelForQuestionAnswering"),
    Task("summarization", "text", "Summarization", "AutoModelForSeq2SeqLM"),
    Task("translation", "text", "Translation", "AutoModelForSeq2SeqLM"),
    Task("fill-mask", "text", "Fill mask", "AutoModelForMaskedLM", pipeline_task="fill-mask"),
    Task(
        "zero-shot-classification",
        "text",
        "Zero-shot classification",
        "AutoModelForSequenceClassification",
        pipeline_task="zero-shot-classification",
    ),
    Task(
        "feature-extraction",
        "text",
        "Sentence similarity",
        "AutoModel",
    ),
    # Generate
    Task("text-generation", "generate", "Text generation", "AutoModelForCausalLM"),
    Task("chat", "generate", "Chat", "AutoModelForCausalLM"),
    # Vision
    Task(
        "image-classification",
        "vision",
        "Image classification",
        "AutoModelForImageClassification",
        pipeline_task="image-classification",
        processor_class="AutoImageProcessor",
    ),
    Task(
        "object-detection",
        "vision",
        "Object detection",
        "AutoModelForObjectDetection",
        pipeline_task="object-detection",
        processor_class="AutoImageProcessor",
    ),
    Task(
        "image-segmentation",
        "vision",
        "Segmentation",
        "AutoModelForImageSegmentation",
        pipeline_task="image-segmentation",
        processor_class="AutoImageProcessor",
    ),
    Task(
        "depth-estimation",
        "vision",
        "Depth estimation",
        "AutoModelForDepthEstimation",
        pipeline_task="depth-estimation",
        processor_class="AutoImageProcessor",
    ),
    Task(
        "zero-shot-image-classification",
        "vision",
        "Zero-shot image classification",
        "AutoModelForZeroShotImageClassification",
        pipeline_task="zero-shot-image-classification",
        processor_class="AutoProcessor",
    ),
    # Audio
    Task(
        "automatic-speech-recognition",
        "audio",
        "Speech recognition",
        "AutoModelForSpeechSeq2Seq",
        pipeline_task="automatic-speech-recognition",
        processor_class="AutoProcessor",
    ),
    Task(
        "audio-classification",
        "audio",
        "Audio classification",
        "AutoModelForAudioClassification",
        pipeline_task="audio-classification",
        processor_class="AutoFeatureExtractor",
    ),
    Task(
        "text-to-audio",
        "audio",
        "Text to speech",
        "AutoModelForTextToWaveform",
        pipeline_task="text-to-audio",
    ),
    # Multimodal
    Task(
        "image-to-text",
        "multimodal",
        "Image captioning",
        "AutoModelForImageTextToText",
        pipeline_task="image-text-to-text",  # transformers 5 redirects image-to-text here
        processor_class="AutoProcessor",
    ),
    Task(
        "visual-question-answering",
        "multimodal",
        "Visual question answering",
        "AutoModelForVisualQuestionAnswering",
        processor_class="AutoProcessor",
    ),
    Task(
        "image-text-to-text",
        "multimodal",
        "Image chat",
        "AutoModelForImageTextToText",
        pipeline_task="image-text-to-text",
        processor_class="AutoProcessor",
    ),
)


def available_tasks() -> list[Task]:
    """Tasks whose adapter exists, in table order."""
    return [task for task in TASKS.values() if task.available]
