"""Errors shown in the page: a UserError becomes a gr.Error; anything else is logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from studio.studio import UserError

log = logging.getLogger("studio.ui")


@contextmanager
def shown_as_gr_error(action: str) -> Iterator[None]:
    """Turn a UserError into a one-sentence gr.Error; log bugs with their traceback."""
    try:
        yield
    except UserError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    except gr.Error:
        raise
    except Exception:
        log.exception("%s failed", action)
        raise gr.Error(
            f"{action} failed because of an unexpected error; the details are in the server log.",
            print_exception=False,
        ) from None
