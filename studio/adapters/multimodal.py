"""Multimodal tasks: image captioning, visual question answering and image chat.

Captioning and image chat run transformers' image-text-to-text pipeline (transformers 5
redirects image-to-text there). The visual-question-answering pipeline is gone in
transformers 5: classification models (ViLT) run from AutoModelForVisualQuestionAnswering
with the old pipeline's sigmoid top-k, generative ones (BLIP VQA, BLIP-2) through generate().
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from studio.adapters.common import limit_text, plain_history, positive_int
from studio.errors import UserError, notify
from studio.media import load_image

if TYPE_CHECKING:
    from studio.generation import Update

MAX_PROMPT_CHARS = 2_000


# ------------------------------------------------------------------------- captioning
def image_to_text(loaded: Any, image: Any, prompt: str = "", max_new_tokens: int = 30) -> list[dict]:
    """A caption, [{generated_text}], from the image-text-to-text pipeline.

    An optional prompt ("a photo of") starts the caption, as BLIP's conditional captioning does.
    """
    picture = load_image(image).image
    prompt = str(prompt or "").strip()
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UserError(f"The prompt is {len(prompt):,} characters long; keep it under {MAX_PROMPT_CHARS:,}.")
    max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", 1, 512)
    result = loaded.pipeline(images=picture, text=prompt, max_new_tokens=max_new_tokens)
    return [{"generated_text": str(item["generated_text"])} for item in result]


# ----------------------------------------------------------- visual question answering
def visual_question_answering(loaded: Any, image: Any, question: str, top_k: int = 3) -> list[dict]:
    """Answers with scores, [{answer, score}], best first.

    Classification models (ViLT): sigmoid scores of the answer classes, top_k of them, as the
    old visual-question-answering pipeline gave. Generative models (BLIP VQA): one generated
    answer, scored by the probability of its tokens.
    """
    import torch

    picture = load_image(image).image
    question = limit_text(question, "a question about the image")
    top_k = positive_int(top_k, "top_k", 1, 100)
    model, processor = loaded.model, loaded.processor
    inputs = processor(images=picture, text=question, return_tensors="pt", truncation=True)
    inputs = inputs.to(model.device)
    if model.can_generate():
        if top_k > 1:
            notify(f"{loaded.entry.display_name} generates one answer; top_k applies to answer classifiers only.")
        return [_generated_answer(model, processor, inputs)]
    with torch.inference_mode():
        logits = model(**inputs).logits[0].float()
    probabilities = logits.sigmoid()
    scores, ids = probabilities.topk(min(top_k, probabilities.numel()))
    labels = model.config.id2label
    return [{"answer": str(labels[int(i)]), "score": float(s)} for s, i in zip(scores.tolist(), ids.tolist())]


def _generated_answer(model: Any, processor: Any, inputs: Any, max_new_tokens: int = 20) -> dict:
    """Greedy answer from generate(), with the probability of its tokens as the score."""
    import torch

    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, output_scores=True, return_dict_in_generate=True)
    new_tokens = out.sequences[0, -len(out.scores) :]
    log_probs = [torch.log_softmax(step[0].float(), dim=-1)[token] for step, token in zip(out.scores, new_tokens)]
    score = float(torch.stack(log_probs).sum().exp()) if log_probs else 0.0
    answer = processor.decode(new_tokens, skip_special_tokens=True).strip()
    return {"answer": answer, "score": score}


# --------------------------------------------------------------------------- image chat
def chat_messages(picture: Any, history: list[dict], text: str) -> list[dict]:
    """The pipeline's chat: the image goes with the first user message, every part typed."""
    messages = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in history]
    messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
    first_user = next(m for m in messages if m["role"] == "user")
    first_user["content"].insert(0, {"type": "image", "image": picture})
    return messages


def image_text_to_text(
    loaded: Any, image: Any, text: str, history: Any = None, max_new_tokens: int = 256
) -> Iterator[Update]:
    """The assistant's reply about the image, [{generated_text}], streamed as it is generated.

    history holds the earlier turns ([{role, content}], text only); the image is attached to
    the first user message, so follow-up questions keep talking about it. Greedy decoding,
    the same conversation as the image-text-to-text pipeline gets (its chat template).
    """
    from studio.generation import GenerationParams, stream_generation

    picture = load_image(image).image
    text = limit_text(text, "a message")
    params = GenerationParams.checked("greedy", max_new_tokens)
    earlier = plain_history(history)
    processor, model = loaded.processor, loaded.model
    if getattr(processor, "chat_template", None) is None:
        raise UserError(f"{loaded.entry.display_name} has no chat template; pick a chat (instruct) vision model.")
    batch = processor.apply_chat_template(
        chat_messages(picture, earlier, text),
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
    ).to(model.device, dtype=model.dtype)
    tokenizer = getattr(processor, "tokenizer", processor)
    yield from stream_generation(model, tokenizer, batch, params, shape=lambda texts: [{"generated_text": texts[0]}])
