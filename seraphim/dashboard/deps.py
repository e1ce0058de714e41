"""
Request dependencies: who is asking (their session) and may they. Every route but login,
``/api/health`` and the static assets depends on ``session``; state-changing routes on
``csrf_checked`` as well (the session's token in the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi import HTTPException
from fastapi import Request

from seraphim.dashboard.audit import AuditUnavailable
from seraphim.dashboard.services import Services
from seraphim.dashboard.sessions import COOKIE_NAME
from seraphim.dashboard.sessions import CSRF_HEADER
from seraphim.dashboard.sessions import Session


def services(request: Request) -> Services:
    return request.app.state.services


def session(request: Request) -> Session:
    found = services(request).sessions.get(request.cookies.get(COOKIE_NAME))
    if found is None:
        raise HTTPException(401, "not signed in (or the session ended): sign in at /login")
    return found


def csrf_checked(request: Request, current: Annotated[Session, Depends(session)]) -> Session:
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), current.csrf.encode()):
        raise HTTPException(403, f"missing or wrong CSRF token (send it in {CSRF_HEADER})")
    return current


def role(needed: str) -> Callable[..., Session]:
    """A dependency: the session, if its user's role includes ``needed`` (else 403)."""

    def check(current: Annotated[Session, Depends(session)]) -> Session:
        if not current.user.can(needed):
            raise HTTPException(403, f"role {current.user.role} may not do this (needs {needed})")
        return current

    return check


def acting(needed: str) -> Callable[..., Session]:
    """A state-changing dependency: CSRF checked and the role includes ``needed``."""

    def check(request: Request, current: Annotated[Session, Depends(csrf_checked)]) -> Session:
        if not current.user.can(needed):
            detail = f"role {current.user.role} may not do this (needs {needed})"
            with contextlib.suppress(AuditUnavailable):  # refused either way
                services(request).audit.record(
                    current.user, client_address(request), request.url.path, "refused", detail
                )
            raise HTTPException(403, detail)
        return current

    return check


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SignedIn = Annotated[Session, Depends(session)]
SignedInWithCsrf = Annotated[Session, Depends(csrf_checked)]
TraderActing = Annotated[Session, Depends(acting("trader"))]
AdminActing = Annotated[Session, Depends(acting("admin"))]
AdminReading = Annotated[Session, Depends(role("admin"))]
