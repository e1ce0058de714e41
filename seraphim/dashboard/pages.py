"""
The pages: server-rendered shells (Jinja2) that fetch everything they show from the API and
send everything they do to it (``static/app.js``). Controls a user's role does not allow are
not rendered; the API refuses them anyway.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from seraphim.dashboard.deps import services
from seraphim.dashboard.sessions import COOKIE_NAME

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str, **context) -> HTMLResponse:
    current = services(request).sessions.get(request.cookies.get(COOKIE_NAME))
    if current is None:
        return TEMPLATES.TemplateResponse(request, "signin_needed.html", status_code=401)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"user": current.user, "csrf": current.csrf, **context},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/login")
def login(request: Request) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "login.html")


@router.get("/")
def overview(request: Request) -> HTMLResponse:
    return _page(request, "overview.html", page="overview")


@router.get("/nodes/{trader_id}")
def node(request: Request, trader_id: str) -> HTMLResponse:
    return _page(request, "node.html", page="node", trader_id=trader_id)


@router.get("/nodes/{trader_id}/strategies/{strategy_id}")
def strategy(request: Request, trader_id: str, strategy_id: str) -> HTMLResponse:
    return _page(
        request, "strategy.html", page="strategy", trader_id=trader_id, strategy_id=strategy_id
    )


@router.get("/alerts")
def alerts(request: Request) -> HTMLResponse:
    return _page(request, "alerts.html", page="alerts")


@router.get("/backtests")
def backtests(request: Request) -> HTMLResponse:
    return _page(request, "backtests.html", page="backtests")


@router.get("/catalog")
def catalog(request: Request) -> HTMLResponse:
    return _page(request, "catalog.html", page="catalog")


@router.get("/audit")
def audit(request: Request) -> HTMLResponse:
    return _page(request, "audit.html", page="audit")
