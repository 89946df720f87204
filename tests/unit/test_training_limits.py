"""Fine-tuning limits checked before a run starts: header checks in the request, formula-like
labels, bounded status streams, one followed run per page (with the worker running:
tests/api/test_training_limits.py)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.config import parse_config
from studio.errors import UserError
from studio.training.jobs import JobManager
from tests.fixtures.factory import fixtures_config
from tests.helpers import sentiment_csv, upload_run

# ------------------------------------------------------------------------------ uploads


def test_a_large_upload_gets_header_checks_in_the_request_and_labels_from_the_worker(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path
) -> None:
    big = sentiment_csv(tmp_path / "big.csv", 30_000)
    assert big.stat().st_size > 2_000_000
    config = upload_run(jobs, tiny, big)
    assert config["labels"] == [], "a large upload's labels are found by the worker, not the request"
    with pytest.raises(UserError, match=r"column 'review' is missing \(the file has: text, label\)"):
        upload_run(jobs, tiny, big, text_column="review")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"text,label\n" + bytes(range(256)) * 10_000)
    with pytest.raises(UserError, match="binary.csv looks like a binary file, not text"):
        upload_run(jobs, tiny, binary)
    empty = tmp_path / "empty.csv"
    empty.write_text("  \n")
    with pytest.raises(UserError, match="empty.csv is empty"):
        upload_run(jobs, tiny, empty)
    assert jobs.run_ids() == []


def test_formula_like_labels_are_refused_in_a_sentence(jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x")', "ok"]
    path = sentiment_csv(tmp_path / "formula.csv", 20, label=lambda i: names[i % 2])
    with pytest.raises(UserError, match=r"1 label starting with = \+ - or @ .*which spreadsheets run as formulas"):
        upload_run(jobs, tiny, path)
    numbers = sentiment_csv(tmp_path / "numbers.csv", 20, label=lambda i: ["-1", "+1"][i % 2])
    assert sorted(upload_run(jobs, tiny, numbers)["labels"]) == ["-1", "1"]  # a number is a fine label


# ------------------------------------------------------------------------- status streams
def test_status_streams_are_bounded(tiny: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MAX_STATUS_STREAMS", "1")
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), supervise=False)
    folder = manager.runs_dir / "20250101-000000-text-0000"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"task": "text-classification"}))
    (folder / "status.json").write_text(json.dumps({"status": "queued"}))
    first = manager.status_stream(folder.name, poll_seconds=0.01)
    assert next(first)["status"] == "queued"
    with pytest.raises(UserError, match="1 status streams are open on this app already; press Refresh runs"):
        next(manager.status_stream(folder.name))
    first.close()
    assert next(manager.status_stream(folder.name))["status"] == "queued"


def test_a_page_follows_one_run_and_an_api_client_any_number(tiny: SimpleNamespace, tmp_path: Path) -> None:
    """A page's newer stream, or its Train (leave), ends its older stream; other followers and
    follower-less (API) streams go on."""
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), supervise=False)
    for name in ("20250101-000000-text-0000", "20250101-000001-text-0001"):
        folder = manager.runs_dir / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"task": "text-classification"}))
        (folder / "status.json").write_text(json.dumps({"status": "queued"}))
    one, two = manager.run_ids()[:2]
    old = manager.status_stream(one, poll_seconds=0.01, follower="page-a")
    other_page = manager.status_stream(one, poll_seconds=0.01, follower="page-b")
    api = manager.status_stream(one, poll_seconds=0.01)
    assert next(old)["run_id"] == next(other_page)["run_id"] == next(api)["run_id"] == one

    def end_later(stream) -> threading.Thread:  # the new stream waits until the old one has ended
        thread = threading.Thread(target=lambda: list(stream), daemon=True)
        thread.start()
        return thread

    ending = end_later(old)
    new = manager.status_stream(two, poll_seconds=0.01, follower="page-a")
    assert next(new)["run_id"] == two
    ending.join(timeout=5)
    assert not ending.is_alive(), "the page's older stream ended"
    ending = end_later(new)
    manager.leave("page-a")  # Train on that page
    ending.join(timeout=5)
    assert not ending.is_alive(), "leave() ended the page's stream"
    (manager.runs_dir / one / "status.json").write_text(json.dumps({"status": "stopped"}))
    assert next(other_page)["status"] == next(api)["status"] == "stopped"  # the others go on to the end
