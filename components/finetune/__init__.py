"""Fine-tune tab: pick a base model and data, set hyperparameters, Train, and watch it learn.

Training runs in a subprocess (the JobManager, `studio.jobs`); this tab only reads its files,
so a closed or reloaded page never blocks it, and a reloaded page re-attaches to the running run.
API: /train_start, /train_status, /train_stop, /train_runs (and /train_resume, /delete_run,
/train_command). Admin actions (start, stop, resume, delete) take `admin_token`; in public mode
a visitor gets one sentence (studio/policy/access.py). Layout in views.py, event handlers in
handlers.py, the status streams (one run followed per page) in status.py, the hyperparameter
search and Push in search.py (drawn by search_views.py); this module wires them. Imports go one
way: search_views <- views <- status <- handlers <- search. A run that ends or is deleted
refreshes the model lists of the tabs it trains for (components/model_lists.py), open or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from components.finetune import handlers, search, status
from components.finetune.handlers import bind
from components.finetune.search_views import push_panel
from components.finetune.views import FOLLOW_LOG_JS, layout
from components.model_lists import model_lists
from studio.studio import Studio

if TYPE_CHECKING:
    from components.context import TabContext

QUIET = {"api_visibility": "undocumented", "show_progress": "hidden"}
PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


def build(studio: Studio, demo: gr.Blocks, ctx: TabContext | None = None) -> None:
    """The Fine-tune tab (call inside `with gr.Tab(...)`, only when `studio.jobs` is set), after
    the task tabs: ctx's task tabs get their model lists refreshed when a run ends."""
    jobs = studio.jobs
    if jobs is None:
        raise ValueError("the Fine-tune tab needs a JobManager (studio.jobs)")
    view = layout(jobs)
    push_panel(view, jobs)  # below the past runs
    inputs, spec = view.inputs, jobs.spec
    data = [inputs["dataset"], inputs["sample"], inputs["task"]]
    columns = [inputs["text_column"], inputs["label_column"], view.counts, inputs["task"]]
    view.log_tail.change(None, None, None, js=FOLLOW_LOG_JS, queue=False, **PRIVATE)
    # Boxes show once they have content; the page's own events, so the API's values stay plain.
    run_boxes = [view.run_id, view.progress, view.plot, view.log_tail, view.stop]
    view.status_raw.change(bind(handlers.shown_boxes, jobs), view.status_raw, run_boxes, queue=False, **PRIVATE)
    view.runs_raw.change(handlers.shown_if(gr.Dataframe), view.runs_raw, view.runs_table, queue=False, **PRIVATE)
    view.command.change(handlers.shown_if(gr.Code), view.command, view.command, queue=False, **PRIVATE)
    choose_task = bind(handlers.choose_task, jobs)
    task_outputs = [inputs["model"], view.lora_settings, inputs["text_column"], inputs["label_column"]]
    inputs["task"].change(choose_task, [inputs["task"], inputs["model"]], task_outputs, queue=False, **QUIET)
    describe = bind(handlers.describe, jobs)
    inputs["dataset"].upload(describe, data, columns, **QUIET)
    inputs["sample"].input(describe, data, columns, **QUIET)
    recount = bind(handlers.recount, jobs)
    inputs["label_column"].input(recount, [*data, inputs["label_column"]], view.counts, **QUIET)

    train_status = bind(status.train_status, jobs)
    runs_view = bind(handlers.runs_view, jobs)
    start = bind(handlers.start, jobs, "train_start", spec, admin=True)
    admin_token = view.admin_token
    started = view.train.click(start, view.train_inputs(spec), [view.run_id, view.start_raw], api_name="train_start")
    streaming = started.success(
        train_status,
        view.run_id,
        view.stream_outputs,
        api_name="train_status",
        concurrency_limit=None,
        show_progress="hidden",
    )
    ended = [streaming.then(runs_view, None, view.runs_outputs, **QUIET)]
    stop = bind(handlers.train_stop, jobs)
    view.stop.click(stop, [view.run_id, admin_token], view.stop_raw, api_name="train_stop", concurrency_limit=None)
    train_runs = bind(handlers.train_runs, jobs)
    view.refresh.click(train_runs, None, view.runs_outputs, api_name="train_runs", concurrency_limit=None)
    resume = bind(handlers.train_resume, jobs)
    resumed = view.resume.click(
        resume, [view.resume_id, admin_token], [view.run_id, view.start_raw], api_name="train_resume"
    )
    resumed_streaming = resumed.success(train_status, view.run_id, view.stream_outputs, concurrency_limit=None, **QUIET)
    ended.append(resumed_streaming.then(runs_view, None, view.runs_outputs, **QUIET))
    delete = bind(handlers.delete_run, jobs)
    ended.append(view.delete.click(delete, [view.delete_id, admin_token], view.runs_outputs, api_name="delete_run"))
    access_outputs = [view.access_md, *view.admin_buttons]
    sign_in = bind(handlers.sign_in, jobs)
    view.sign_in.click(sign_in, admin_token, access_outputs, **PRIVATE)
    admin_token.submit(sign_in, admin_token, access_outputs, **PRIVATE)
    if jobs.access.public:
        demo.load(bind(handlers.access_view, jobs), None, access_outputs, queue=False, **PRIVATE)
    preview = bind(handlers.command_preview, jobs, "train_command", spec)
    view.show.click(preview, view.start_inputs(spec), view.command, api_name="train_command")
    attach = bind(status.attach, jobs)
    attached = demo.load(attach, None, [view.run_id, *view.stream_outputs], concurrency_limit=None, **QUIET)
    ended.append(attached.then(runs_view, None, view.runs_outputs, **QUIET))
    search.wire(view, jobs, demo)  # trials table, "Train with these settings", /train_trials, /train_push
    if ctx is not None:
        refresh_lists(demo, ctx, jobs.served_tasks(), ended)


def refresh_lists(demo: gr.Blocks, ctx: TabContext, task_ids: tuple[str, ...], ended: list) -> None:
    """The model lists of the tasks runs train for, refreshed on page load (a reload lists the
    runs completed since the app started) and after each event that may add or remove a model."""
    refresh, lists = model_lists(ctx.task_uis, task_ids)
    if not lists:
        return
    demo.load(refresh, lists, lists, queue=False, **PRIVATE)
    for event in ended:
        event.then(refresh, lists, lists, queue=False, **PRIVATE)
