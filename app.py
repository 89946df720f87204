"""Transformers Studio: `python app.py` serves the app (see --help and the README)."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue rebuilds a pandas summary of its last 10,000 events after every event (for its
# monitoring page): ~3 ms a request, growing with the history. Every 100 events is enough.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")

log = logging.getLogger("studio")

QUEUE_SIZE = 64  # requests waiting at once, all visitors together
SESSIONS_KEPT = 64  # browser sessions whose page state the server keeps (least recently used go first)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Transformers Studio: every common Transformers task in the browser.",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME); 0.0.0.0 for every interface",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port to listen on (default 7860, or GRADIO_SERVER_PORT)",
    )
    parser.add_argument(
        "--share",
        action="store_true",
        help="also serve a public gradio.live link (needs internet); the public app offers only models.yaml entries",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="public mode without --share (also on when SPACE_ID is set, as on a Hugging Face Space): "
        "visitors run models; training and unloading need the admin token (STUDIO_ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--public-limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help="a limit for visitors in public mode, over models.yaml's public_limits (repeatable): "
        "max_new_tokens, num_beams, num_return_sequences, prompt_chars, history_chars, running_per_visitor",
    )
    parser.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="USER:PASS",
        help="require this login (repeatable)",
    )
    parser.add_argument(
        "--auth-file",
        type=Path,
        metavar="PATH",
        help="require a login from this file: one USER:PASS per line (# comments allowed)",
    )
    parser.add_argument(
        "--models",
        type=Path,
        metavar="PATH",
        help="models.yaml to use (default: models.yaml beside app.py)",
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=Path("runs"),
        metavar="PATH",
        help="folder for fine-tuning runs (default ./runs)",
    )
    parser.add_argument(
        "--max-loaded-models",
        type=int,
        default=3,
        metavar="N",
        help="keep at most N models in memory; the least recently used is unloaded (default 3)",
    )
    parser.add_argument(
        "--memory-budget-gb",
        type=float,
        default=None,
        metavar="GB",
        help="unload least recently used models when their weights pass GB (default: half of this machine's memory)",
    )
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=16,
        metavar="N",
        help="encoder tasks (classification, fill-mask, similarity...): concurrent requests for one model "
        "run as one forward pass of up to N; 1 turns batching off (default 16)",
    )
    parser.add_argument(
        "--batch-window-ms",
        type=float,
        default=5.0,
        metavar="MS",
        help="how long a batch waits for more requests after the first arrives (default 5 ms)",
    )
    parser.add_argument(
        "--generation-streams",
        type=int,
        default=8,
        metavar="N",
        help="generation requests (text generation, chat) that run at once per task; more wait in the queue "
        "and see their place (default 8)",
    )
    parser.add_argument(
        "--mcp",
        action="store_true",
        default=os.environ.get("GRADIO_MCP_SERVER", "").strip().lower() in {"1", "true", "yes", "on"},
        help="serve every task as an MCP tool at /gradio_api/mcp/ too (or GRADIO_MCP_SERVER=True; needs mcp)",
    )
    return parser.parse_args(argv)


def read_auth(args: argparse.Namespace) -> list[tuple[str, str]]:
    """USER:PASS pairs from --auth and --auth-file; never logged."""
    lines = list(args.auth)
    if args.auth_file:
        if not args.auth_file.is_file():
            raise SystemExit(f"--auth-file {args.auth_file}: no such file.")
        lines += [
            line.strip()
            for line in args.auth_file.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    pairs = []
    for number, line in enumerate(lines, start=1):
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise SystemExit(f"Login {number} is not USER:PASS; write it as name:password.")
        pairs.append((user, password))
    return pairs


def check_serving(args: argparse.Namespace) -> None:
    """One sentence for a serving flag out of range."""
    if args.max_batch_size < 1:
        raise SystemExit("--max-batch-size must be 1 or more (1 turns batching off).")
    if not 0 <= args.batch_window_ms <= 1000:
        raise SystemExit("--batch-window-ms must be between 0 and 1000; a few ms is enough.")
    if args.generation_streams < 1:
        raise SystemExit("--generation-streams must be 1 or more.")


def one_line_per_warning() -> None:
    """transformers and huggingface_hub print through their own handler and through the root
    logger's (huggingface_hub's twice). They now go through the root logger only, once."""
    from huggingface_hub.utils import logging as hub_logging
    from transformers.utils import logging as transformers_logging

    for library in (hub_logging.get_logger(), transformers_logging.get_logger()):  # their handlers exist now
        for handler in list(library.handlers):
            library.removeHandler(handler)
        library.propagate = True
    for name in ("httpx", "httpx2"):  # one INFO line per HTTP request (a download makes dozens)
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_serving(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from studio.models.hub import probe_hub

    log.info(probe_hub())  # one probe; offline for the session when the Hub does not answer
    one_line_per_warning()
    from studio.config import ConfigError, load_config, with_public_limits

    try:
        config = with_public_limits(load_config(args.models), args.public_limit)
    except ConfigError as exc:
        raise SystemExit(f"Cannot start: {exc}") from None
    auth = read_auth(args)

    from components.app import CSS, build_app
    from components.sessions import lighten_sessions
    from studio.models.manager import ModelManager
    from studio.policy.access import Access
    from studio.studio import Studio
    from studio.tasks.task import TaskTableError
    from studio.training.jobs import JobManager

    # Public mode: on a Space, with --share or --public; admin actions then need the admin credential.
    public = bool(args.share or args.public or os.environ.get("SPACE_ID"))
    access = Access.from_env(public)
    if public and not access.admin_token and not access.oauth:
        log.warning("Public mode without STUDIO_ADMIN_TOKEN or STUDIO_ADMINS: nobody can start training runs.")
    jobs = JobManager(args.runs_dir, config, public=public, access=access)
    studio = Studio(
        config,
        ModelManager(
            max_models=args.max_loaded_models,
            memory_budget=None if args.memory_budget_gb is None else int(args.memory_budget_gb * 2**30),
            batch_window_ms=args.batch_window_ms,
            max_batch_size=args.max_batch_size,
        ),
        generation_streams=args.generation_streams,
        public=public,
        extra_entries=jobs.model_entries,
        jobs=jobs,
        access=access,
    )
    try:
        demo = build_app(studio)
    except TaskTableError as exc:
        raise SystemExit(f"Cannot start: the task table is wrong: {exc}") from None
    if args.mcp:  # every task endpoint as an MCP tool (components/mcp.py)
        from components.mcp import hide_admin_tools, mcp_available

        if not mcp_available():
            raise SystemExit("Cannot start: --mcp needs the mcp package; install it with pip install mcp.")
        if studio.public or studio.access.public:
            hide_admin_tools(demo)
    # A bounded queue: past QUEUE_SIZE waiting requests a visitor is told to try again later.
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=auth or None,
        css=CSS,
        max_file_size="200mb",
        footer_links=["api", "gradio", "settings"],
        # Gradio keeps a copy of the page config (~1 MB) per session: keep the most recent only.
        state_session_capacity=SESSIONS_KEPT,
        prevent_thread_lock=True,
        mcp_server=args.mcp,
        quiet=True,  # Gradio's own hint names launch(share=True); this app's flag is --share
    )
    print(f"* Running on local URL:  {demo.local_url}", flush=True)
    if not args.share:
        print("* For a public link, restart with: python app.py --share (see python app.py --help)", flush=True)
    lighten_sessions(demo)  # an API call no longer copies the whole page's config (components/sessions.py)
    if args.share and not demo.share_url:
        log.warning(
            "No public link: --share needs internet access to fetch Gradio's tunnel. "
            "The app is served locally only; deploy to Hugging Face Spaces for a public app."
        )
    demo.block_thread()


if __name__ == "__main__":
    main()
