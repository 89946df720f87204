"""Multimodal tabs through gradio_client, checked against transformers (the image-text-to-text
pipeline, or the model classes where the VQA pipeline is gone) on the same tiny models."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from pytest import approx

from studio.config import parse_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from tests.helpers import run_snippet

ROOT = Path(__file__).resolve().parents[2]
CAT = ROOT / "examples" / "images" / "cat.jpg"
SHAPES = ROOT / "examples" / "images" / "shapes.png"


@cache
def pipe(task: str, model: str):
    from transformers import pipeline

    return pipeline(task, model=model)


def rgb(path: Path) -> Image.Image:
    return Image.open(path).convert("RGB")


def vqa_reference(model_path: str, image: Image.Image, question: str, top_k: int) -> list[dict]:
    """What the removed VQA pipeline computed for answer classifiers: sigmoid scores, top k."""
    import torch
    from transformers import AutoProcessor, ViltForQuestionAnswering

    processor = AutoProcessor.from_pretrained(model_path)
    model = ViltForQuestionAnswering.from_pretrained(model_path).eval()
    with torch.no_grad():
        logits = model(**processor(images=image, text=question, return_tensors="pt")).logits[0]
    probabilities = torch.sigmoid(logits)
    order = sorted(range(len(probabilities)), key=lambda i: -float(probabilities[i]))[:top_k]
    return [{"answer": model.config.id2label[i], "score": float(probabilities[i])} for i in order]


def chat(image: Image.Image, turns: list[tuple[str, str]]) -> list[dict]:
    """A pipeline chat: the image with the first user message, then text turns."""
    messages = []
    for role, text in turns:
        messages.append({"role": role, "content": [{"type": "text", "text": text}]})
    messages[0]["content"].insert(0, {"type": "image", "image": image})
    return messages


def gradio_history(turns: list[tuple[str, str]]) -> list[dict]:
    """The conversation in gr.Chatbot's message format, as the API takes it."""
    return [{"role": role, "content": [{"type": "text", "text": text}]} for role, text in turns]


# -------------------------------------------------------------------------- captioning
@pytest.mark.parametrize("prompt", ["", "a photo of"])
def test_captioning_matches_pipeline(client, tiny: SimpleNamespace, prompt: str) -> None:
    caption, raw = client.predict(
        model=tiny.blip, image=handle_file(str(CAT)), prompt=prompt, max_new_tokens=8, api_name="/image_to_text"
    )
    want = pipe("image-text-to-text", tiny.blip)(images=rgb(CAT), text=prompt, max_new_tokens=8)
    assert raw == [{"generated_text": item["generated_text"]} for item in want]
    assert caption == want[0]["generated_text"]
    assert raw[0]["generated_text"].startswith(prompt) and len(raw[0]["generated_text"]) > len(prompt)


def test_captioning_differs_by_image(client, tiny: SimpleNamespace) -> None:
    captions = {
        client.predict(
            model=tiny.blip, image=handle_file(str(path)), prompt="", max_new_tokens=8, api_name="/image_to_text"
        )[0]
        for path in (CAT, SHAPES)
    }
    assert len(captions) == 2


# ---------------------------------------------------------- visual question answering
@pytest.mark.parametrize(("question", "top_k"), [("What animal is this?", 3), ("How many cars are there?", 1)])
def test_vqa_matches_model_class_reference(client, tiny: SimpleNamespace, question: str, top_k: int) -> None:
    shown, raw = client.predict(
        model=tiny.vilt,
        image=handle_file(str(CAT)),
        question=question,
        top_k=top_k,
        api_name="/visual_question_answering",
    )
    want = vqa_reference(tiny.vilt, rgb(CAT), question, top_k)
    assert [item["answer"] for item in raw] == [item["answer"] for item in want]
    assert [item["score"] for item in raw] == approx([item["score"] for item in want], abs=1e-6)
    assert shown["label"] == want[0]["answer"]


@pytest.fixture(scope="module")
def blip_vqa(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny generative VQA model (BlipForQuestionAnswering) on the BLIP fixture's config."""
    import torch
    from transformers import AutoProcessor, BlipConfig, BlipForQuestionAnswering

    folder = tmp_path_factory.mktemp("blip-vqa")
    torch.manual_seed(0)
    model = BlipForQuestionAnswering(BlipConfig.from_pretrained(tiny.blip)).eval()
    model.save_pretrained(folder)
    AutoProcessor.from_pretrained(tiny.blip).save_pretrained(folder)
    return str(folder)


def test_generative_vqa_answers_with_generate(blip_vqa: str) -> None:
    import torch
    from transformers import AutoProcessor, BlipForQuestionAnswering

    config = parse_config(
        {"tasks": {"visual-question-answering": {"models": [{"id": blip_vqa, "source": "local", "label": "blip vqa"}]}}}
    )
    studio = Studio(config, ModelManager())
    question = "what is on the table?"
    raw = studio.run(
        "visual-question-answering", blip_vqa, {"image": str(CAT), "question": question, "top_k": 1}, ModelSettings()
    ).output
    processor = AutoProcessor.from_pretrained(blip_vqa)
    model = BlipForQuestionAnswering.from_pretrained(blip_vqa).eval()
    with torch.no_grad():
        out = model.generate(**processor(images=rgb(CAT), text=question, return_tensors="pt"), max_new_tokens=20)
    assert len(raw) == 1 and raw[0]["answer"] == processor.decode(out[0], skip_special_tokens=True).strip()
    assert raw[0]["answer"] and 0.0 < raw[0]["score"] <= 1.0
    snippet = studio.code(
        "visual-question-answering",
        blip_vqa,
        {"image": str(CAT), "question": question},
        ModelSettings(),
        reveal_paths=True,
    )
    namespace: dict = {}
    exec(compile(snippet, "<show code vqa>", "exec"), namespace)
    assert namespace["result"][0]["answer"] == raw[0]["answer"]
    assert namespace["result"][0]["score"] == approx(raw[0]["score"], abs=1e-6)


# ---------------------------------------------------------------------------- image chat
def test_image_chat_matches_pipeline_over_two_turns(client, tiny: SimpleNamespace) -> None:
    first = "What is in the picture?"
    shown, history, cleared, figures, raw = client.predict(
        model=tiny.llava,
        image=handle_file(str(CAT)),
        text=first,
        history=[],
        max_new_tokens=8,
        api_name="/image_text_to_text",
    )
    chat_pipe = pipe("image-text-to-text", tiny.llava)
    reply = chat_pipe(text=chat(rgb(CAT), [("user", first)]), max_new_tokens=8)[0]["generated_text"][-1]["content"]
    assert raw == [{"generated_text": reply}] and reply.strip()
    assert cleared == "" and "8 tokens" in figures
    assert history == [{"role": "user", "content": first}, {"role": "assistant", "content": reply}]
    assert [(m["role"], m["content"][0]["text"]) for m in shown] == [("user", first), ("assistant", reply)]

    follow_up = "And what colour is it?"
    shown, history, _, _, raw = client.predict(
        model=tiny.llava,
        image=handle_file(str(CAT)),
        text=follow_up,
        history=history,
        max_new_tokens=8,
        api_name="/image_text_to_text",
    )
    turns = [("user", first), ("assistant", reply), ("user", follow_up)]
    want = chat_pipe(text=chat(rgb(CAT), turns), max_new_tokens=8)[0]["generated_text"][-1]["content"]
    assert raw == [{"generated_text": want}]
    assert len(history) == 4 and history[-1] == {"role": "assistant", "content": want} and len(shown) == 4


def test_image_chat_takes_gradio_message_format(client, tiny: SimpleNamespace) -> None:
    turns = [("user", "Hi"), ("assistant", "Hello there")]
    raw = client.predict(
        model=tiny.llava,
        image=handle_file(str(SHAPES)),
        text="Colours?",
        history=gradio_history(turns),
        max_new_tokens=6,
        api_name="/image_text_to_text",
    )[-1]
    plain = client.predict(
        model=tiny.llava,
        image=handle_file(str(SHAPES)),
        text="Colours?",
        history=[{"role": role, "content": text} for role, text in turns],
        max_new_tokens=6,
        api_name="/image_text_to_text",
    )[-1]
    assert raw == plain and raw[0]["generated_text"]


# ------------------------------------------------------------------------- Show code
@pytest.mark.parametrize(
    ("task", "model_name", "inputs"),
    [
        ("image-to-text", "blip", {"image": str(CAT), "prompt": "a photo of", "max_new_tokens": 8}),
        ("visual-question-answering", "vilt", {"image": str(SHAPES), "question": "How many circles?", "top_k": 2}),
        (
            "image-text-to-text",
            "llava",
            {
                "image": str(SHAPES),
                "text": "Which colours?",
                "history": gradio_history([("user", "Hi"), ("assistant", "Hello")]),
                "max_new_tokens": 6,
            },
        ),
    ],
)
def test_show_code_snippet_reproduces_the_app(
    client, tiny: SimpleNamespace, models_yaml: Path, task: str, model_name: str, inputs: dict
) -> None:
    model = getattr(tiny, model_name)
    _, snippet_result = run_snippet(models_yaml, task, model, inputs)
    sent = {key: handle_file(value) if key == "image" else value for key, value in inputs.items()}
    raw = client.predict(model=model, **sent, api_name=f"/{task.replace('-', '_')}")[-1]
    result = snippet_result
    if task == "visual-question-answering":
        assert [item["answer"] for item in raw] == [item["answer"] for item in result]
        assert [item["score"] for item in raw] == approx([item["score"] for item in result], abs=1e-6)
    else:
        assert raw == result


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("api_name", "inputs", "message"),
    [
        ("/image_to_text", {"image": None, "prompt": ""}, "Upload an image first."),
        ("/visual_question_answering", {"image": "CAT", "question": "  "}, "Type a question about the image first"),
        (
            "/visual_question_answering",
            {"image": "TEXT", "question": "What?"},
            "This file is not an image that can be read",
        ),
        (
            "/image_text_to_text",
            {"image": "CAT", "text": "", "history": []},
            "Type a message first: the input is empty.",
        ),
        ("/image_text_to_text", {"image": None, "text": "Hi", "history": []}, "Upload an image first."),
        ("/image_text_to_text", {"image": "EMPTY", "text": "Hi", "history": []}, "The uploaded file is empty"),
    ],
)
def test_bad_input_is_a_clear_error(
    client, tiny: SimpleNamespace, tmp_path: Path, api_name: str, inputs: dict, message: str
) -> None:
    (tmp_path / "notes.png").write_text("not a picture\n" * 10)
    (tmp_path / "empty.jpg").write_bytes(b"")
    files = {"CAT": str(CAT), "TEXT": str(tmp_path / "notes.png"), "EMPTY": str(tmp_path / "empty.jpg")}
    if inputs.get("image"):
        inputs = {**inputs, "image": handle_file(files[inputs["image"]])}
    model = {"/image_to_text": tiny.blip, "/visual_question_answering": tiny.vilt, "/image_text_to_text": tiny.llava}
    with pytest.raises(AppError) as caught:
        client.predict(model=model[api_name], **inputs, api_name=api_name)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)
    # ...and the server keeps serving.
    raw = client.predict(
        model=tiny.blip, image=handle_file(str(CAT)), prompt="", max_new_tokens=4, api_name="/image_to_text"
    )[-1]
    assert raw[0]["generated_text"]
