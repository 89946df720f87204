"""Who may do what: public mode, the admin credential and run ownership (no Gradio here).

Public mode is on on a Hugging Face Space (SPACE_ID), with --share or with --public. There,
every visitor may run the offered models, but admin actions (start, stop, resume or delete
fine-tuning runs, unload models, push to the Hub) need an admin credential:

- the token in the STUDIO_ADMIN_TOKEN environment variable (a Space secret), passed as the
  `admin_token` parameter of an admin endpoint or entered once per browser session in the
  page's admin box; it is compared in constant time and never logged or echoed;
- on a Space with `hf_oauth: true`, signing in with Hugging Face as a user listed in
  STUDIO_ADMINS (comma-separated user names).

A run belongs to whoever started it: the hash of the browser session's id (never the id
itself), or "admin" for a call without a session. Stop and resume are allowed to that session
and to the admin. On localhost (no public mode) everything stays allowed.

Who asks is a `Caller`, made once per request (components/api.py, from Gradio's request, the
`admin_token` parameter and the Hugging Face profile) and handed to every Studio action.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from studio.errors import UserError

ADMIN = "admin"
SIGNED_IN_SESSIONS = 1_000  # sessions remembered as signed in (oldest forgotten first)
SIGN_IN_HOURS = 12.0


@dataclass(frozen=True)
class Caller:
    """Who makes one request, the same for the page and the API.

    session: the hash of the browser session's id (owner_key), None for a call without one;
    their runs are owned, and their running requests counted, by it. admin: whether the admin
    token, a signed-in session or an admin's Hugging Face login came with the request (decided
    once, by Access.actor; the token itself is not kept, so no Caller can log or echo it).
    username: the Hugging Face login, if any. from_page: the app's own page asks (its requests
    say `x-gradio-user: app`), not an API client.
    """

    session: str | None
    admin: bool
    username: str | None = None
    from_page: bool = False

    @property
    def owner(self) -> str:
        """What a run started by this caller records as its owner."""
        return self.session or ADMIN


def owner_key(session_hash: str | None) -> str:
    """What a run records as its owner: a hash of the browser session's id, or "admin" without one."""
    if not session_hash:
        return ADMIN
    return "session-" + hashlib.sha256(str(session_hash).encode("utf-8", "replace")).hexdigest()[:16]


def _names(text: str | None) -> frozenset[str]:
    return frozenset(name.strip().lower() for name in (text or "").split(",") if name.strip())


@dataclass
class Access:
    """The public-mode rules of one app; `Access()` is localhost: everyone may do everything."""

    public: bool = False
    admin_token: str | None = field(default=None, repr=False)
    admins: frozenset[str] = frozenset()
    oauth: bool = False  # a Space with Hugging Face sign-in (hf_oauth: true)
    _signed_in: OrderedDict[str, float] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_env(cls, public: bool, environ: dict[str, str] | None = None) -> Access:
        """The rules from STUDIO_ADMIN_TOKEN, STUDIO_ADMINS, SPACE_ID and OAUTH_CLIENT_ID."""
        env = os.environ if environ is None else environ
        admins = _names(env.get("STUDIO_ADMINS"))
        oauth = bool(env.get("SPACE_ID") and env.get("OAUTH_CLIENT_ID") and admins)
        return cls(public=public, admin_token=env.get("STUDIO_ADMIN_TOKEN") or None, admins=admins, oauth=oauth)

    # ---------------------------------------------------------------------- credentials
    def token_ok(self, token: str | None) -> bool:
        """Whether token is the admin token (constant-time; no admin token set: never)."""
        if not self.admin_token or not token or not isinstance(token, str):
            return False
        return hmac.compare_digest(token.encode("utf-8", "replace"), self.admin_token.encode("utf-8", "replace"))

    def sign_in(self, session_hash: str | None, token: str | None) -> bool:
        """Remember this browser session as admin when token is right; whether it was."""
        if not session_hash or not self.token_ok(token):
            return False
        with self._lock:
            self._signed_in[owner_key(session_hash)] = time.monotonic()
            self._signed_in.move_to_end(owner_key(session_hash))
            while len(self._signed_in) > SIGNED_IN_SESSIONS:
                self._signed_in.popitem(last=False)
        return True

    def _session_signed_in(self, session_hash: str | None) -> bool:
        if not session_hash:
            return False
        with self._lock:
            since = self._signed_in.get(owner_key(session_hash))
        return since is not None and time.monotonic() - since < SIGN_IN_HOURS * 3600

    def actor(
        self,
        session_hash: str | None = None,
        admin_token: str | None = None,
        username: str | None = None,
        from_page: bool = False,
    ) -> Caller:
        """The request's Caller: admin on localhost, or with the token, a signed-in session or an admin login."""
        admin = (
            not self.public
            or self.token_ok(admin_token)
            or self._session_signed_in(session_hash)
            or bool(self.oauth and username and username.strip().lower() in self.admins)
        )
        session = owner_key(session_hash) if session_hash else None
        return Caller(session, admin, username or None, from_page)

    # --------------------------------------------------------------------------- rules
    def how_to_sign_in(self) -> str:
        ways = "enter the admin token in the page's admin box or pass it as admin_token"
        if self.oauth:
            ways = "sign in with Hugging Face as an admin, " + ways
        return ways

    def require_admin(self, actor: Caller | None, action: str) -> None:
        """A UserError of one sentence when a visitor of a public app tries an admin action
        (None: a trusted caller, such as Python code in this process)."""
        if actor is None or actor.admin:
            return
        raise UserError(
            f"{action} needs the admin credential on this public app; {self.how_to_sign_in()}, "
            "or run the app on your own machine."
        )

    def require_owner(self, actor: Caller | None, owner: str | None, action: str) -> None:
        """Only the session that started a run, or the admin, may stop or resume it."""
        if actor is None or actor.admin or (owner and actor.owner == owner):
            return
        raise UserError(
            f"{action} is allowed only from the browser session that started the run, or by the admin; "
            f"{self.how_to_sign_in()}."
        )

    def visitor_hint(self) -> str:
        """One sentence for the page: what a visitor can and cannot do (empty on localhost)."""
        if not self.public:
            return ""
        who = "the admin (Hugging Face sign-in or admin token)" if self.oauth else "the admin (admin token)"
        return (
            "This is a public app: anyone can run the listed models and the models fine-tuned here, and "
            f"watch training runs; starting, stopping or deleting runs and unloading models is for {who}."
        )
