"""Fine-tuning through the app's API (gradio_client): start, status stream, stop, runs, and real learning."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from studio.training.samples import SAMPLES
from studio.uploads.tables import read_table
from tests.helpers import train_status


def test_start_status_stream_stop_and_runs(client, tiny: SimpleNamespace) -> None:
    started = client.predict(
        task="text-classification",
        model=tiny.text_classifier,
        sample="sentiment",
        num_train_epochs=3,
        per_device_train_batch_size=8,
        max_length=32,
        api_name="/train_start",
    )[-1]
    run_id = started["run_id"]
    seen = []
    status = train_status(client, run_id, lambda s: seen.append(s["step"]) or len(s["metrics"]) >= 2)
    assert status["status"] == "running" and status["max_steps"] == 315
    assert status["metrics"][0]["loss"] > 0 and f"step {status['metrics'][0]['step']}/315" in status["log_tail"]
    assert seen == sorted(seen) and seen[-1] > seen[0], "the stream should show the steps advancing"
    assert client.predict(run_id=run_id, api_name="/train_stop")["status"] in ("stopping", "stopped")
    final = train_status(client, run_id, lambda s: False)
    assert final["status"] == "stopped"
    runs = client.predict(api_name="/train_runs")[-1]
    listed = next(run for run in runs if run["run_id"] == run_id)
    assert listed["status"] == "stopped" and listed["task"] == "text-classification"
    # The base model is named as the page shows it (its label), never by its server folder.
    assert listed["base_model"] == "tiny text-classifier" and listed["model_id"] is None


def test_bad_data_is_one_clear_error(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "one-label.csv"
    path.write_text("text,label\ngreat,pos\n,pos\nlovely,pos\n", encoding="utf-8")
    with pytest.raises(AppError) as error:
        client.predict(
            task="text-classification",
            model=tiny.text_classifier,
            dataset=handle_file(str(path)),
            api_name="/train_start",
        )
    assert (
        "one-label.csv cannot be used for training: 1 row with an empty 'text' (row 2); only one label ('pos')"
        in str(error.value)
    )
    with pytest.raises(AppError, match="There is no run"):
        client.predict(run_id="20990101-000000-text-0000", api_name="/train_stop")


def test_show_command(client, tiny: SimpleNamespace) -> None:
    shown = client.predict(
        task="token-classification", model=tiny.ner_tagger, sample="ner", num_processes=2, api_name="/train_command"
    )
    assert "torchrun --standalone --nproc_per_node 2 -m studio.training.worker" in shown
    assert '"labels": [\n    "O",' in shown and '"sample": "ner"' in shown


def test_minilm_learns_sentiment_offline_and_serves_it(client) -> None:
    """Real learning: the packaged all-MiniLM-L6-v2 with a new head, on the bundled sentiment set, on this CPU."""
    began = time.monotonic()
    run_id = client.predict(
        task="text-classification",
        model="all-MiniLM-L6-v2",
        sample="sentiment",
        num_train_epochs=1,
        per_device_train_batch_size=16,
        learning_rate=1e-4,
        max_length=64,
        eval_each_epoch=False,  # the final evaluation on the held-out split is enough here
        save_each_epoch=False,
        api_name="/train_start",
    )[-1]["run_id"]
    final = train_status(client, run_id, lambda s: False)
    print(f"MiniLM sentiment fine-tuning: {time.monotonic() - began:.0f} s, {final['final_metrics']}")
    assert final["status"] == "completed", final["log_tail"]
    held_out = len(read_table(SAMPLES["sentiment"].test))
    assert held_out == 192
    assert final["final_metrics"]["accuracy"] >= 0.85
    runs = client.predict(api_name="/train_runs")[-1]
    model_id = next(run["model_id"] for run in runs if run["run_id"] == run_id)
    assert model_id
    for text, want in [
        ("The staff were friendly and the room was spotless, I would happily stay again.", "positive"),
        ("My order arrived two weeks late and the replacement broke on the first day.", "negative"),
    ]:
        raw = client.predict(model=model_id, text=text, top_k=2, api_name="/text_classification")[-1]
        assert raw[0]["label"] == want, (text, raw)
