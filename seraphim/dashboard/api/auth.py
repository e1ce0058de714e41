"""Sign in (a session cookie), sign out, and who am I."""

from __future__ import annotations

import contextlib
import math

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Request
from fastapi import Response
from pydantic import BaseModel
from pydantic import Field

from seraphim.dashboard.audit import AuditUnavailable
from seraphim.dashboard.deps import SignedIn
from seraphim.dashboard.deps import SignedInWithCsrf
from seraphim.dashboard.deps import client_address
from seraphim.dashboard.deps import services
from seraphim.dashboard.sessions import COOKIE_NAME

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    user: str
    role: str
    csrf_token: str


@router.post("/login", response_model=Me, responses={401: {}, 429: {}, 503: {}})
def login(body: Login, request: Request, response: Response) -> Me:
    """Sign in; the session cookie is HttpOnly and SameSite=Strict. Failed attempts are limited
    per address and per user name. JSON only, so a cross-site form cannot post it."""
    svc = services(request)
    address = client_address(request)
    wait = svc.limiter.retry_after(address, body.username)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many failed sign-ins: try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    user = svc.users.authenticate(body.username, body.password)
    try:
        if user is None:
            svc.limiter.failed(address, body.username)
            svc.audit.record(body.username, address, "login", "refused", "wrong user or password")
            raise HTTPException(401, "wrong user name or password")
        svc.audit.record(user, address, "login", "done", "signed in")
    except AuditUnavailable as e:
        raise HTTPException(503, str(e)) from None
    current, cookie = svc.sessions.create(user)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=int(svc.sessions.ttl_secs),
        httponly=True,
        samesite="strict",
        secure=svc.settings.secure_cookies,
        path="/",
    )
    return Me(user=user.name, role=user.role, csrf_token=current.csrf)


@router.post("/logout", status_code=204, responses={401: {}, 403: {}})
def logout(request: Request, response: Response, current: SignedInWithCsrf) -> None:
    """End the session (server-side: the cookie no longer opens anything)."""
    svc = services(request)
    svc.sessions.end(current.id)
    with contextlib.suppress(AuditUnavailable):  # the session is gone either way
        svc.audit.record(current.user, client_address(request), "logout", "done", "signed out")
    response.delete_cookie(COOKIE_NAME, path="/")


@router.get("/me", response_model=Me, responses={401: {}})
def me(current: SignedIn) -> Me:
    """The signed-in user, their role and the CSRF token for state-changing requests."""
    return Me(user=current.user.name, role=current.user.role, csrf_token=current.csrf)
