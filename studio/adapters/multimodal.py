"""Multimodal tasks: image captioning, visual question answering and image chat.

Captioning and image chat run transformers' image-text-to-text pipeline (transformers 5
redirects image-to-text there). The visual-question-answering pipeline is gone in
transformers 5: classification models (ViLT) run from AutoModelForVisualQuestionAnswering
with the old pipeline's sigmoid top-k, generative ones (BLIP VQA, BLIP-2) through generate().
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from studio.adapters.common import limit_text
from studio.adapters.generate import CHARS_PER_TOKEN_AT_MOST, HISTORY, context_length, keep_recent
from studio.errors import UserError, notify
from studio.generation.decoding import GenerationParams
from studio.generation.stream import stream_generation
from studio.results import Output
from studio.spec.messages import plain_history
from studio.spec.param import Param, takes
from studio.spec.shared import GENERATION, IMAGE, TEXT, TOP_K_LABELS
from studio.uploads.media import load_image

MAX_PROMPT_CHARS = 2_000
PICTURE = IMAGE.but(label="Image")


def generation_subset(*names: str) -> list[Param]:
    """The shared generation parameters with these names, in the order given."""
    by_name = {param.name: param for param in GENERATION}
    return [by_name[name] for name in names]


# Image chat decodes greedily: of the generation group its API has always taken max_new_tokens alone.
IMAGE_CHAT_GENERATION = tuple(param.but(default=256) for param in generation_subset("max_new_tokens"))


# ------------------------------------------------------------------------- captioning
@takes(
    PICTURE,
    Param(
        "prompt",
        "text",
        "",
        "May be empty",
        label="Prompt",
        placeholder="Optional start of the caption, e.g. a photo of",
        max_chars=MAX_PROMPT_CHARS,
    ),
    Param(
        "max_new_tokens",
        "int",
        30,
        "The most tokens the caption may have.",
        label="Max new tokens",
        low=1,
        high=512,
        step=1,
    ),
)
def image_to_text(loaded: Any, image: Any, prompt: str, max_new_tokens: int) -> list[dict[str, Any]]:
    """A caption, [{generated_text}], from the image-text-to-text pipeline.

    Args:
        image: The picture: an upload, a URL or a path.
        prompt: Optional start of the caption ("a photo of"), as BLIP's conditional captioning does.
        max_new_tokens: The most tokens the caption may have.
    """
    picture = load_image(image).image
    prompt = prompt.strip()  # at most MAX_PROMPT_CHARS: its Param's max_chars refused a longer one
    result = loaded.pipeline(images=picture, text=prompt, max_new_tokens=max_new_tokens)
    return [{"generated_text": str(item["generated_text"])} for item in result]


# ----------------------------------------------------------- visual question answering
@takes(
    PICTURE,
    Param(
        "question",
        "text",
        help="A question about the image.",
        label="Question",
        placeholder="Ask something about the image…",
        empty="Type a question about the image first: the input is empty.",
    ),
    TOP_K_LABELS.but(default=3, help="Answer classifiers (ViLT); generative models give one", label="Answers shown"),
)
def visual_question_answering(loaded: Any, image: Any, question: str, top_k: int) -> list[dict[str, Any]]:
    """Answers with scores, [{answer, score}], best first.

    Classification models (ViLT): sigmoid scores of the answer classes, top_k of them, as the
    old visual-question-answering pipeline gave. Generative models (BLIP VQA): one generated
    answer, scored by the probability of its tokens.

    Args:
        image: The picture: an upload, a URL or a path.
        question: A question about the image.
        top_k: How many answers to return (answer classifiers such as ViLT; generative models give one).
    """
    import torch

    picture = load_image(image).image
    question = limit_text(question)
    model, processor = loaded.model, loaded.processor
    limit = context_length(loaded)
    count = len(loaded.tokenizer(question[: limit * CHARS_PER_TOKEN_AT_MOST])["input_ids"])
    if count > limit:
        notify(f"The question is longer than the {limit:,} tokens the model reads; only its start was used.")
    inputs = processor(images=picture, text=question, return_tensors="pt", truncation=True, max_length=limit)
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


def _generated_answer(model: Any, processor: Any, inputs: Any, max_new_tokens: int = 20) -> dict[str, Any]:
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
def chat_messages(picture: Any, history: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The pipeline's chat: the image goes with the first user message, every part typed."""
    messages = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in history]
    messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
    first_user = next(m for m in messages if m["role"] == "user")
    first_user["content"].insert(0, {"type": "image", "image": picture})
    return messages


@takes(
    PICTURE,
    TEXT.but(
        label="Message",
        help="Your message about the image.",
        lines=1,
        empty="Type a message first: the input is empty.",
    ),
    HISTORY,
    *IMAGE_CHAT_GENERATION,
)
def image_text_to_text(loaded: Any, image: Any, text: str, history: Any, max_new_tokens: int) -> Iterator[Output]:
    """The assistant's reply about the image, [{generated_text}], streamed as it is generated.

    The image is attached to the first user message, so follow-up questions keep talking
    about it. Greedy decoding, the same conversation as the image-text-to-text pipeline gets
    (its chat template). Each update's visual holds the live figures (tokens, tokens/s).

    Args:
        image: The picture: an upload, a URL or a path.
        text: Your message about the image.
        history: The earlier turns, [{role, content}] (text only; Gradio's message format too).
        max_new_tokens: The most tokens the reply may have.
    """
    picture = load_image(image).image
    text = limit_text(text)
    earlier = plain_history(history)
    processor, model = loaded.processor, loaded.model
    if getattr(processor, "chat_template", None) is None:
        raise UserError(f"{loaded.entry.display_name} has no chat template; pick a chat (instruct) vision model.")
    batch = _fitted_chat(loaded, picture, earlier, text).to(model.device, dtype=model.dtype)
    params = GenerationParams.from_inputs({"strategy": "greedy", "max_new_tokens": max_new_tokens})
    yield from stream_generation(
        model, loaded.tokenizer, batch, params, shape=lambda texts: [{"generated_text": texts[0]}]
    )


def _fitted_chat(loaded: Any, picture: Any, earlier: list[dict[str, Any]], text: str) -> Any:
    """The chat template's batch, cut to the model's context with a notice: the oldest turns go
    first, then the start of the message; the image (in the first user message) always stays."""
    limit = context_length(loaded)
    earlier, text = keep_recent(earlier, text, limit * CHARS_PER_TOKEN_AT_MOST)

    def render(history: list[dict[str, Any]], message: str) -> Any:
        return loaded.processor.apply_chat_template(
            chat_messages(picture, history, message),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        )

    batch = render(earlier, text)
    length = int(batch["input_ids"].shape[-1])
    if length <= limit:
        return batch
    tokenizer, sent = loaded.tokenizer, len(earlier)
    counts = (
        [len(ids) for ids in tokenizer([turn["content"] for turn in earlier], add_special_tokens=False)["input_ids"]]
        if earlier
        else []
    )
    while length > limit and earlier:
        drop, freed = 0, 0
        while drop < len(earlier) and (freed < length - limit or earlier[drop]["role"] != "user"):
            freed += counts[drop]
            drop += 1
        earlier, counts = earlier[drop:], counts[drop:]
        batch = render(earlier, text)
        length = int(batch["input_ids"].shape[-1])
    if len(earlier) < sent:
        kept = (
            f"only its last {len(earlier)} earlier messages were sent" if earlier else "the earlier turns were left out"
        )
        notify(f"The conversation is longer than the {limit:,} tokens the model reads; {kept}.")
    if length <= limit:
        return batch
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    keep = len(ids) - (length - limit)
    for _ in range(4):  # decoding and encoding again may differ by a token or two
        if keep < 1:
            break
        batch = render([], tokenizer.decode(ids[-keep:]))
        length = int(batch["input_ids"].shape[-1])
        if length <= limit:
            notify(
                f"The message has {len(ids):,} tokens; only its last {keep:,} were used, as the model reads {limit:,}."
            )
            return batch
        keep -= length - limit
    raise UserError(
        f"The image and the chat template alone take more than the {limit:,} tokens {loaded.entry.display_name} reads; "
        "pick a model with a longer context."
    )
