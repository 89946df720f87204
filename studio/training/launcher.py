"""How a run's worker is started: the command (python, torchrun or accelerate launch), the
"Show command" preview of it, and the process itself, in its own process group.

The worker's output goes to train.log (a FILE, never a pipe, so an app that stops reading
can never block training). See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.training.config import Launcher, TrainingConfig
from studio.training.store import RunFolder

ROOT = Path(__file__).resolve().parent.parent.parent
# The one way a Hub token reaches the worker: given for this run's push, never the app's login.
TOKEN_VARIABLE = "STUDIO_HUB_TOKEN"


def cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:
        return 0


def max_processes() -> int:
    """The most training processes this machine can run: one per GPU, else one per CPU core."""
    return max(cuda_count(), os.cpu_count() or 1)


def choose(processes: int, accelerate_config: str | None = None) -> Launcher:
    """python (one process), accelerate (GPUs, or an accelerate config) or torchrun (several CPU processes)."""
    if accelerate_config or (processes > 1 and cuda_count()):
        return "accelerate"
    return "torchrun" if processes > 1 else "python"


def command(config: TrainingConfig | Mapping[str, Any], run_dir: str | Path, python: str = sys.executable) -> list[str]:
    """The argv that runs the worker on run_dir."""
    config = TrainingConfig.of(config)
    worker = ["-m", "studio.training.worker", str(run_dir)]
    processes = str(config.num_processes)
    if config.launcher == "torchrun":
        return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", processes, *worker]
    if config.launcher == "accelerate":
        argv = [python, "-m", "accelerate.commands.launch", "--num_processes", processes]
        if config.accelerate_config:
            argv += ["--config_file", str(config.accelerate_config)]
        return [*argv, *worker]
    return [python, *worker]


def preview(config: TrainingConfig) -> str:
    """ "Show command": the shell command and config.json a run with this config would get.

    Run from the app's folder; no server path is shown (the run folder is runs/<run-id>, the
    base model's folder is left out: the worker finds it from base_model)."""
    run_dir = "runs/<run-id>"
    argv = command(config, run_dir, python="python")
    shown = shlex.join(argv).replace("python -m torch.distributed.run", "torchrun")
    shown = shown.replace("python -m accelerate.commands.launch", "accelerate launch").replace("'", "")
    if config.push_to_hub:
        shown = f"{TOKEN_VARIABLE}=*** {shown}"
    written = {"run_id": "<run-id>", **config.as_json()}
    written.pop("model_path", None)
    if config.data.train_file:
        name = "train" + Path(config.data.train_file).suffix.lower()
        written["data"] = {**written["data"], "train_file": f"{run_dir}/data/{name}"}
    if config.accelerate_config:
        written["accelerate_config"] = Path(config.accelerate_config).name
    return f"{shown}\n\n# {run_dir}/config.json\n" + json.dumps(written, indent=2) + "\n"


def spawn(folder: RunFolder, config: TrainingConfig, hub_token: str | None = None) -> subprocess.Popen[bytes]:
    """Start the worker on the run folder, output to train.log, in a new process group (so Stop
    reaches every process torchrun or accelerate started). The token only ever lives in its env."""
    argv = command(config, folder.path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", TOKEN_VARIABLE):
        env.pop(name, None)
    env["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"  # never send the stored login with a download
    env["HF_DATASETS_CACHE"] = str(folder.cache / "datasets")  # inside the run: removed with it
    if config.push_to_hub and hub_token:
        env[TOKEN_VARIABLE] = hub_token
    shown = [Path(argv[0]).name, *argv[1:-1], f"runs/{folder.path.name}"]
    folder.say("starting: " + shlex.join(shown))
    with open(folder.log, "ab") as output:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Stop signals the whole tree
        )


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_group(pgid: int | None, sig: int) -> None:
    if not pgid:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
