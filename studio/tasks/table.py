"""The task table: every task the studio knows, as data (like transformers' SUPPORTED_TASKS).

A row names everything a task is made of: its adapter (`module:function` in
studio/adapters, which declares the task's inputs with `@takes`), its Show-code builder
(studio/codegen) and its tab module (components/tabs). Names are checked when the app
starts (`check_tasks`): a wrong one stops it with one line naming it. Adding a task is one
row here, one adapter, one tab module and a models.yaml entry (docs/ARCHITECTURE.md,
"Adding a task").
"""

from __future__ import annotations

from studio.tasks.task import Task

__all__ = ["TASKS"]


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
        adapter="studio.adapters.text:text_classification",
        code="studio.codegen.text:text_classification",
        tab="components.tabs.text_classification",
    ),
    Task(
        "token-classification",
        "text",
        "Named entities",
        "AutoModelForTokenClassification",
        pipeline_task="token-classification",
        adapter="studio.adapters.text:token_classification",
        code="studio.codegen.text:token_classification",
        tab="components.tabs.token_classification",
    ),
    Task(
        "question-answering",
        "text",
        "Question answering",
        "AutoModelForQuestionAnswering",
        adapter="studio.adapters.question_answering:question_answering",
        code="studio.codegen.text:question_answering",
        tab="components.tabs.question_answering",
    ),
    Task(
        "summarization",
        "text",
        "Summarization",
        "AutoModelForSeq2SeqLM",
        adapter="studio.adapters.seq2seq:summarization",
        code="studio.codegen.text:summarization",
        tab="components.tabs.summarization",
    ),
    Task(
        "translation",
        "text",
        "Translation",
        "AutoModelForSeq2SeqLM",
        adapter="studio.adapters.seq2seq:translation",
        code="studio.codegen.text:translation",
        tab="components.tabs.translation",
        facts="studio.adapters.seq2seq:translation_facts",
    ),
    Task(
        "fill-mask",
        "text",
        "Fill mask",
        "AutoModelForMaskedLM",
        pipeline_task="fill-mask",
        adapter="studio.adapters.text:fill_mask",
        code="studio.codegen.text:fill_mask",
        tab="components.tabs.fill_mask",
        facts="studio.adapters.text:fill_mask_facts",
    ),
    Task(
        "zero-shot-classification",
        "text",
        "Zero-shot classification",
        "AutoModelForSequenceClassification",
        pipeline_task="zero-shot-classification",
        adapter="studio.adapters.text:zero_shot_classification",
        code="studio.codegen.text:zero_shot_classification",
        tab="components.tabs.zero_shot_classification",
    ),
    Task(
        "feature-extraction",
        "text",
        "Sentence similarity",
        "AutoModel",
        adapter="studio.adapters.text:feature_extraction",
        code="studio.codegen.text:feature_extraction",
        tab="components.tabs.feature_extraction",
    ),
    # Generate
    Task(
        "text-generation",
        "generate",
        "Text generation",
        "AutoModelForCausalLM",
        adapter="studio.adapters.generate:text_generation",
        code="studio.codegen.generate:text_generation",
        tab="components.tabs.text_generation",
    ),
    Task(
        "chat",
        "generate",
        "Chat",
        "AutoModelForCausalLM",
        adapter="studio.adapters.generate:chat",
        code="studio.codegen.generate:chat",
        tab="components.tabs.chat",
    ),
    # Vision
    Task(
        "image-classification",
        "vision",
        "Image classification",
        "AutoModelForImageClassification",
        pipeline_task="image-classification",
        processor_class="AutoImageProcessor",
        adapter="studio.adapters.vision:image_classification",
        code="studio.codegen.vision:image_classification",
        tab="components.tabs.image_classification",
    ),
    Task(
        "object-detection",
        "vision",
        "Object detection",
        "AutoModelForObjectDetection",
        pipeline_task="object-detection",
        processor_class="AutoImageProcessor",
        adapter="studio.adapters.vision:object_detection",
        code="studio.codegen.vision:object_detection",
        tab="components.tabs.object_detection",
    ),
    Task(
        "image-segmentation",
        "vision",
        "Segmentation",
        "AutoModelForImageSegmentation",
        pipeline_task="image-segmentation",
        processor_class="AutoImageProcessor",
        adapter="studio.adapters.vision:image_segmentation",
        code="studio.codegen.vision:image_segmentation",
        tab="components.tabs.image_segmentation",
    ),
    Task(
        "depth-estimation",
        "vision",
        "Depth estimation",
        "AutoModelForDepthEstimation",
        pipeline_task="depth-estimation",
        processor_class="AutoImageProcessor",
        adapter="studio.adapters.vision:depth_estimation",
        code="studio.codegen.vision:depth_estimation",
        tab="components.tabs.depth_estimation",
    ),
    Task(
        "zero-shot-image-classification",
        "vision",
        "Zero-shot image classification",
        "AutoModelForZeroShotImageClassification",
        pipeline_task="zero-shot-image-classification",
        processor_class="AutoProcessor",
        adapter="studio.adapters.vision:zero_shot_image_classification",
        code="studio.codegen.vision:zero_shot_image_classification",
        tab="components.tabs.zero_shot_image_classification",
    ),
    # Audio
    Task(
        "automatic-speech-recognition",
        "audio",
        "Speech recognition",
        "AutoModelForSpeechSeq2Seq",
        pipeline_task="automatic-speech-recognition",
        processor_class="AutoProcessor",
        adapter="studio.adapters.audio:automatic_speech_recognition",
        code="studio.codegen.audio:automatic_speech_recognition",
        tab="components.tabs.automatic_speech_recognition",
    ),
    Task(
        "audio-classification",
        "audio",
        "Audio classification",
        "AutoModelForAudioClassification",
        pipeline_task="audio-classification",
        processor_class="AutoFeatureExtractor",
        adapter="studio.adapters.audio:audio_classification",
        code="studio.codegen.audio:audio_classification",
        tab="components.tabs.audio_classification",
    ),
    Task(
        "text-to-audio",
        "audio",
        "Text to speech",
        "AutoModelForTextToWaveform",
        pipeline_task="text-to-audio",
        adapter="studio.adapters.audio:text_to_audio",
        code="studio.codegen.audio:text_to_audio",
        tab="components.tabs.text_to_audio",
    ),
    # Multimodal
    Task(
        "image-to-text",
        "multimodal",
        "Image captioning",
        "AutoModelForImageTextToText",
        pipeline_task="image-text-to-text",  # transformers 5 redirects image-to-text here
        processor_class="AutoProcessor",
        adapter="studio.adapters.multimodal:image_to_text",
        code="studio.codegen.multimodal:image_to_text",
        tab="components.tabs.image_to_text",
    ),
    Task(
        "visual-question-answering",
        "multimodal",
        "Visual question answering",
        "AutoModelForVisualQuestionAnswering",
        processor_class="AutoProcessor",
        adapter="studio.adapters.multimodal:visual_question_answering",
        code="studio.codegen.multimodal:visual_question_answering",
        tab="components.tabs.visual_question_answering",
    ),
    Task(
        "image-text-to-text",
        "multimodal",
        "Image chat",
        "AutoModelForImageTextToText",
        pipeline_task="image-text-to-text",
        processor_class="AutoProcessor",
        adapter="studio.adapters.multimodal:image_text_to_text",
        code="studio.codegen.multimodal:image_text_to_text",
        tab="components.tabs.image_text_to_text",
    ),
)
