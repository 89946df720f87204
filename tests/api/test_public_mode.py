"""Public mode, as a Hugging Face Space starts the app (SPACE_ID and STUDIO_ADMIN_TOKEN set):
visitors are refused admin actions with one sentence and nothing changes; the admin succeeds;
a run belongs to the browser session that started it; the training queue is capped."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.training import data as training_data
from tests.helpers import ADMIN_TOKEN, wait_until

NEEDS_ADMIN = "needs the admin credential on this public app"


def session(public_app: SimpleNamespace) -> Client:
    """A new browser session (gradio_client gives each Client its own session hash)."""
    return Client(public_app.url, verbose=False)


def run_ids(client: Client) -> list[str]:
    return [run["run_id"] for run in client.predict(api_name="/train_runs")[-1]]


def status_of(client: Client, run_id: str) -> str:
    return next(run["status"] for run in client.predict(api_name="/train_runs")[-1] if run["run_id"] == run_id)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The first 40 rows of the bundled sentiment set: a run of a few seconds per epoch."""
    lines = training_data.SAMPLES["sentiment"].train.read_text(encoding="utf-8").splitlines()[:41]
    path = tmp_path_factory.mktemp("data") / "small.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def start(client: Client, tiny: SimpleNamespace, data: str, **extra) -> str:
    arguments = {
        "task": "text-classification",
        "model": tiny.text_classifier,
        "dataset": handle_file(data),
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "max_length": 32,
        **extra,
    }
    return client.predict(**arguments, api_name="/train_start")[-1]["run_id"]


def test_a_visitor_is_refused_every_admin_action_and_nothing_changes(
    public_app, tiny: SimpleNamespace, small_csv
) -> None:
    visitor = session(public_app)
    before = run_ids(visitor)
    with pytest.raises(AppError, match=f"Starting a fine-tuning run {NEEDS_ADMIN}"):
        start(visitor, tiny, small_csv)
    with pytest.raises(AppError, match=NEEDS_ADMIN):
        start(visitor, tiny, small_csv, admin_token="a-wrong-token")
    with pytest.raises(AppError, match=f"Deleting a run {NEEDS_ADMIN}"):
        visitor.predict(run_id="20250101-000000-text-0000", api_name="/delete_run")
    with pytest.raises(AppError, match=f"Unloading models {NEEDS_ADMIN}"):
        visitor.predict(model=tiny.text_classifier, api_name="/unload_model")
    assert run_ids(visitor) == before
    assert not list(public_app.runs.iterdir()), "a refused start must not leave a run folder"
    # What visitors may do: run a model, and read the page's hint about what they cannot do.
    raw = visitor.predict(model=tiny.text_classifier, text="fine", top_k=1, api_name="/text_classification")[-1]
    assert raw[0]["score"] > 0
    page = httpx.get(public_app.url + "config", timeout=30).text
    assert "This is a public app" in page and ADMIN_TOKEN not in page


def test_runs_belong_to_their_session_the_admin_succeeds_and_the_queue_is_capped(public_app, tiny, small_csv) -> None:
    owner, other = session(public_app), session(public_app)
    first = start(owner, tiny, small_csv, num_train_epochs=40, per_device_train_batch_size=2, admin_token=ADMIN_TOKEN)
    wait_until(lambda: status_of(owner, first) == "running", 120, "the first run never started")

    # Another browser session can neither stop nor resume it.
    with pytest.raises(AppError, match="Stopping a run is allowed only from the browser session that started"):
        other.predict(run_id=first, api_name="/train_stop")
    with pytest.raises(AppError, match="Resuming a run is allowed only from the browser session"):
        other.predict(run_id=first, api_name="/train_resume")
    assert status_of(other, first) == "running"

    # The queue holds one waiting run here (STUDIO_MAX_QUEUED_RUNS=1): one more gets a sentence.
    second = start(owner, tiny, small_csv, admin_token=ADMIN_TOKEN)
    assert status_of(owner, second) == "queued"
    with pytest.raises(AppError, match=r"The training queue is full \(1 runs waiting\)"):
        start(owner, tiny, small_csv, admin_token=ADMIN_TOKEN)
    assert sorted(run_ids(owner)) == sorted([first, second])

    # The admin (token given) may stop any run; the owner may stop its own without the token.
    assert other.predict(run_id=second, admin_token=ADMIN_TOKEN, api_name="/train_stop")["status"] == "stopped"
    assert owner.predict(run_id=first, api_name="/train_stop")["status"] in ("stopping", "stopped")
    wait_until(lambda: status_of(owner, first) == "stopped", 60, "the first run never stopped")

    # An empty id never means "all"; deleting is the admin's.
    with pytest.raises(AppError, match="Pick a run first"):
        owner.predict(run_id="", admin_token=ADMIN_TOKEN, api_name="/train_stop")
    with pytest.raises(AppError, match=f"Deleting a run {NEEDS_ADMIN}"):
        owner.predict(run_id=second, api_name="/delete_run")
    owner.predict(run_id=second, admin_token=ADMIN_TOKEN, api_name="/delete_run")
    assert run_ids(owner) == [first] and not (public_app.runs / second).exists()


def test_unloading_is_the_admins_and_an_empty_id_unloads_nothing(public_app, tiny: SimpleNamespace) -> None:
    admin = session(public_app)
    admin.predict(model=tiny.text_classifier, text="warm up", top_k=1, api_name="/text_classification")
    loaded = [row[0] for row in admin.predict(api_name="/loaded_models")[0]["data"]]
    assert loaded
    with pytest.raises(AppError, match="Pick a model to unload first"):
        admin.predict(model="", admin_token=ADMIN_TOKEN, api_name="/unload_model")
    assert [row[0] for row in admin.predict(api_name="/loaded_models")[0]["data"]] == loaded
    table, _ = admin.predict(model=loaded[0], admin_token=ADMIN_TOKEN, api_name="/unload_model")
    assert loaded[0] not in [row[0] for row in table["data"]]
