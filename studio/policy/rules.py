"""One app's policy, as Studio applies it to every action a Caller asks for: who is admin
(access.py), the caps on what a visitor sends and how many of their requests run at once
(limits.py). Studio calls it at its own entry points, so an endpoint that goes through Studio
cannot forget a rule; the page and the API only say who asks (components/api.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from studio.config import PublicLimits
from studio.errors import UserError
from studio.policy.access import Access, Caller
from studio.policy.limits import VisitorLimits, check_caps
from studio.spec.param import Spec


@dataclass
class Policy:
    """The rules of one app. `public` turns the caps and the running limit on (a Space, --share,
    --public); `access` says who is admin (on localhost: everyone)."""

    access: Access
    limits: PublicLimits
    public: bool = False
    visitors: VisitorLimits = field(default_factory=VisitorLimits)

    @contextmanager
    def admitted(self, caller: Caller | None) -> Iterator[None]:
        """While the block runs, one of the caller's running requests (a public app refuses one
        past running_per_visitor with a sentence). None: this process itself, never counted."""
        if not self.public:
            yield
            return
        with self.visitors.running(caller, self.limits.running_per_visitor):
            yield

    def require_admin(self, caller: Caller | None, action: str) -> None:
        """A sentence when a visitor of a public app asks for an admin action."""
        self.access.require_admin(caller, action)

    def cap(self, checked: Mapping[str, Any]) -> None:
        """The public caps on a task's inputs, as its spec checked them."""
        if self.public:
            check_caps(self.limits, checked)

    def cap_given(self, spec: Spec, given: Mapping[str, Any]) -> None:
        """The public caps on some of a task's inputs, before an action that runs the task more
        than once (Insight's compare and batch) starts, so it is refused once and whole (each
        run is capped again, whole). The given inputs as their spec parses them; one the spec
        refuses is left to the action, which says so in its own words and order."""
        if not self.public:
            return
        try:
            checked = {name: spec[name].check(value) for name, value in given.items() if name in spec}
        except UserError:
            return
        check_caps(self.limits, checked)
