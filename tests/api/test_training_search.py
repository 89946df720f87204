"""Hyperparameter search (optuna trials in the run's worker, Stop mid-trial) and the model card
and Push to the Hub of a finished run."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import psutil
import pytest
from gradio_client.exceptions import AppError

from components.finetune.search import use_best
from components.finetune.search_views import best_markdown, trials_frame
from studio.config import parse_config
from studio.errors import UserError
from studio.policy.access import Access
from studio.training.files import write_json
from studio.training.jobs import JobManager
from studio.training.model_card import card_text, write_card
from studio.training.store import RunFolder
from tests.fixtures.factory import fixtures_config
from tests.helpers import group_members, wait_until

WORDS = (("a great and lovely film", "positive"), ("a dull and awful film", "negative"))


@pytest.fixture
def jobs(tiny: SimpleNamespace, tmp_path: Path):
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    yield manager
    manager.close(stop_running=True)


def reviews(path: Path, rows: int) -> Path:
    """A small two-label CSV (an upload: 85% trains, 15% evaluates)."""
    lines = ["text,label", *(f"{WORDS[i % 2][0]} {i},{WORDS[i % 2][1]}" for i in range(rows))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def search_config(jobs: JobManager, tiny: SimpleNamespace, data: Path, **search) -> dict:
    """One epoch per trial unless said otherwise."""
    return jobs.build_config(
        task="text-classification",
        model=tiny.text_classifier,
        dataset=str(data),
        max_length=16,
        logging_steps=1,
        **{"search_trials": 3, "search_epochs_max": 1, **search},
    ).as_json()


@pytest.fixture(scope="module")
def search_run(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory):
    """A finished 3-trial search (one epoch per trial, 20 training rows)."""
    folder = tmp_path_factory.mktemp("search")
    manager = JobManager(folder / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    config = search_config(manager, tiny, reviews(folder / "reviews.csv", 24), search_batch_sizes="4, 8")
    assert config["search"]["search_trials"] == 3 and config["search"]["search_batch_sizes"] == "4, 8"
    yield manager, manager.start(config)
    manager.close(stop_running=True)


def test_three_trials_give_three_rows_and_the_best_fills_the_settings(search_run: tuple) -> None:
    jobs, run_id = search_run
    status = jobs.wait(run_id, timeout=240)
    assert status["status"] == "completed", status["log_tail"]
    summary = jobs.trials(run_id)
    trials = summary["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2] and {t["state"] for t in trials} == {"complete"}
    for trial in trials:
        params = trial["params"]
        assert 1e-5 <= params["learning_rate"] <= 5e-4 and params["per_device_train_batch_size"] in (4, 8)
        assert params["num_train_epochs"] == 1
        assert trial["objective"] == trial["metrics"]["eval_accuracy"]  # the task's metric, maximized
    best = summary["best"]
    assert summary["direction"] == "maximize" and best["objective"] == max(t["objective"] for t in trials)
    assert status["model_id"] is None and not (jobs.runs_dir / run_id / "model").exists()  # a search keeps none
    # The page: the table has a row per trial, and "Train with these settings" fills the best's in, search off.
    assert trials_frame(summary)["trial"].tolist() == [0, 1, 2]
    assert best_markdown(summary).startswith(f"**Best trial {best['number']}** (maximize accuracy)")
    params = best["params"]
    expected = (params["learning_rate"], params["per_device_train_batch_size"], params["num_train_epochs"], 0)
    assert use_best(jobs, summary) == expected


def test_stop_during_the_second_trial_ends_the_search_and_leaves_no_process(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path
) -> None:
    data = reviews(tmp_path / "reviews.csv", 48)
    config = search_config(jobs, tiny, data, search_batch_sizes="2")
    run_id = jobs.start(config)
    run_dir = jobs.runs_dir / run_id

    def second_trial_training() -> bool:
        progress = json.loads((run_dir / "progress.json").read_text()) if (run_dir / "progress.json").is_file() else {}
        return progress.get("trial") == 1 and progress.get("step", 0) >= 1

    wait_until(second_trial_training, 180, "the second trial did not start training")
    pgid = json.loads((run_dir / "status.json").read_text())["pgid"]
    assert group_members(pgid), "the worker should be alive during the trial"
    assert jobs.stop(run_id)["status"] == "stopping"
    wait_until(lambda: not group_members(pgid), 15, "processes of the search still alive")
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(run_dir) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
    status = jobs.wait(run_id, timeout=30)
    assert status["status"] == "stopped"
    summary = jobs.trials(run_id)
    assert [(t["number"], t["state"]) for t in summary["trials"]] == [(0, "complete"), (1, "stopped")]
    assert summary["best"]["number"] == 0  # a stopped trial is never the best


def finished_run(jobs: JobManager, run_id: str, config: dict, with_model: bool = True) -> RunFolder:
    """A completed run's folder as the worker leaves it (config, status, result, model/)."""
    folder = RunFolder(jobs.runs_dir / run_id)
    (folder.model if with_model else folder.path).mkdir(parents=True)
    if with_model:
        (folder.model / "config.json").write_text("{}")
    write_json(folder.config, {**config, "run_id": run_id})
    folder.log.touch()
    write_json(folder.status, {"run_id": run_id, "status": "completed"})
    metrics = {"loss": 0.61, "accuracy": 0.75, "f1": 0.7, "runtime": 1.2, "epoch": 1.0}
    write_json(folder.result, {"outcome": "completed", "final_metrics": metrics, "rows": {"train": 32, "eval": 192}})
    return folder


def test_the_model_card_lists_data_settings_and_metrics(jobs: JobManager, tiny: SimpleNamespace) -> None:
    config = jobs.build_config(
        task="text-classification", model=tiny.text_classifier, sample="sentiment", max_train_samples=32
    ).as_json()
    folder = finished_run(jobs, "20260101-000000-text-card", config)
    card = write_card(folder).read_text(encoding="utf-8")
    assert card.startswith("---\nlibrary_name: transformers\npipeline_tag: text-classification\n")
    assert "Fine-tuned from **tiny text-classifier** for text-classification" in card
    assert "- Source: bundled sentiment set" in card and "- Rows: 32 for training, 192 for evaluation" in card
    assert "- Labels (2): negative, positive" in card
    assert "| learning_rate | 5e-05 |" in card and "| max_train_samples | 32 |" in card
    assert "| accuracy | 0.75 |" in card and "| f1 | 0.7 |" in card and "runtime" not in card
    assert str(jobs.runs_dir) not in card and "/" not in card.split("## Data")[1].split("## Settings")[0]
    lora = jobs.build_config(
        task="text-generation", model=tiny.causal_lm, sample="instructions", use_lora=True
    ).as_json()
    lora_card = card_text(finished_run(jobs, "20260101-000000-text-lora", lora))
    assert "LoRA adapters (peft):" in lora_card and "| lora_r | 8 |" in lora_card and "| lora_alpha | 16 |" in lora_card


def test_push_says_one_sentence_offline_and_is_admin_only(
    jobs: JobManager, tiny: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = jobs.build_config(task="text-classification", model=tiny.text_classifier, sample="sentiment").as_json()
    run_id = "20260101-000000-text-push"
    finished_run(jobs, run_id, config)
    secret = "hf_secret_token_for_this_push"
    with pytest.raises(UserError, match="needs a Hub token"):
        jobs.push(run_id, None)
    with pytest.raises(UserError, match=r"^Pushing to the Hub needs internet access and this app runs offline"):
        jobs.push(run_id, secret)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the app thinks it is online; huggingface_hub cannot reach it
    with pytest.raises(UserError, match=r"^Could not push to the Hub \(the Hub could not be reached\)"):
        jobs.push(run_id, secret, "someone/tiny-model")
    assert (jobs.runs_dir / run_id / "model" / "README.md").is_file(), "the card is written before the upload"
    for path in (jobs.runs_dir / run_id).rglob("*"):
        assert path.is_dir() or secret not in path.read_text(encoding="utf-8", errors="replace"), path
    finished_run(jobs, "20260101-000000-text-search", config, with_model=False)
    with pytest.raises(UserError, match="has no model to push"):
        jobs.push("20260101-000000-text-search", secret)
    public = JobManager(jobs.runs_dir, supervise=False, access=Access(public=True))
    with pytest.raises(UserError, match="needs the admin credential"):
        public.push(run_id, secret, actor=public.access.actor("a-visitor"))


def test_the_api_takes_the_search_last_and_answers_trials_and_push(client, tiny: SimpleNamespace) -> None:
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    names = [parameter["parameter_name"] for parameter in api["/train_start"]["parameters"]]
    assert names[-7:] == [
        "search_trials",
        "search_learning_rate_min",
        "search_learning_rate_max",
        "search_batch_sizes",
        "search_epochs_min",
        "search_epochs_max",
        "search_objective",
    ]
    shown = client.predict(
        task="text-classification",
        model=tiny.text_classifier,
        sample="sentiment",
        search_trials=3,
        api_name="/train_command",
    )
    assert '"search_trials": 3' in shown and '"search_objective": "metric"' in shown
    with pytest.raises(AppError, match="search_epochs_min must not be above search_epochs_max"):
        client.predict(
            task="text-classification",
            model=tiny.text_classifier,
            sample="sentiment",
            search_trials=2,
            search_epochs_min=3,
            search_epochs_max=1,
            api_name="/train_command",
        )
    with pytest.raises(AppError, match="There is no run"):
        client.predict(run_id="20990101-000000-text-0000", api_name="/train_trials")
    with pytest.raises(AppError, match="There is no run"):
        client.predict(run_id="20990101-000000-text-0000", hub_token="x", api_name="/train_push")


class UploadHub(BaseHTTPRequestHandler):
    """Just enough of the Hub's upload API for HfApi.create_repo and upload_folder (regular files):
    tests/fixtures/hub_server.py serves downloads only. Received files land in `received`."""

    protocol_version = "HTTP/1.1"
    received: ClassVar[dict[str, bytes]] = {}
    tokens: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.tokens.append(self.headers.get("Authorization", ""))
        root = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/api/repos/create":
            asked = json.loads(body)
            repo = "/".join(filter(None, (asked.get("organization"), asked["name"])))
            return self._json({"url": f"{root}/{repo}"})
        if self.path == "/api/validate-yaml":
            return self._json({"errors": [], "warnings": []})
        if "/preupload/" in self.path:
            files = json.loads(body)["files"]
            return self._json(
                {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
            )
        for line in body.decode().splitlines():  # /commit/: ndjson, files inline in base64
            item = json.loads(line)
            if item.get("key") == "file":
                self.received[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
        repo = self.path.removeprefix("/api/models/").split("/commit/")[0]
        return self._json({"commitUrl": f"{root}/{repo}/commit/{'1' * 40}", "commitOid": "1" * 40})


@pytest.fixture
def upload_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[UploadHub]]:
    import huggingface_hub.constants

    server = ThreadingHTTPServer(("127.0.0.1", 0), UploadHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    UploadHub.received, UploadHub.tokens = {}, []
    yield UploadHub
    server.shutdown()


def test_push_uploads_the_model_with_its_card(jobs: JobManager, tiny: SimpleNamespace, upload_hub) -> None:
    config = jobs.build_config(task="text-classification", model=tiny.text_classifier, sample="sentiment").as_json()
    run_id = "20260101-000000-text-up"
    finished_run(jobs, run_id, config)
    secret = "hf_secret_token_for_this_push"
    pushed = jobs.push(run_id, secret, "someone/tiny-model")
    assert pushed["repo"] == "someone/tiny-model" and pushed["url"].endswith("/commit/" + "1" * 40)
    assert set(upload_hub.received) == {"README.md", "config.json"}
    card = upload_hub.received["README.md"].decode()
    assert card.startswith("---\nlibrary_name: transformers") and "# someone/tiny-model" in card
    assert "| accuracy | 0.75 |" in card and secret not in card
    assert set(upload_hub.tokens) == {f"Bearer {secret}"}  # the token given for this push, nothing else
    assert jobs.store.folder(run_id).read_status()["push"]["repo"] == "someone/tiny-model"
    assert all(secret not in p.read_text(errors="replace") for p in (jobs.runs_dir / run_id).rglob("*") if p.is_file())
