"""``seraphim dashboard``: serve the web console, manage its users."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from seraphim.dashboard.users import ROLES

USERS_HELP = "Users file (default $SERAPHIM_DASHBOARD_USERS or ~/.config/seraphim/...)."
PASSWORD_HELP = "Asked for when not given (or $SERAPHIM_DASHBOARD_PASSWORD)."


@click.group()
def dashboard() -> None:
    """The web console for live nodes and research (REST/WebSocket API with OpenAPI)."""


@dashboard.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--users", "users_path", type=click.Path(path_type=Path), default=None, help=USERS_HELP
)
@click.option("--redis", "redis_url", default=None, help="Redis URL (default $SERAPHIM_REDIS_URL).")
@click.option("--catalog", type=click.Path(path_type=Path), default=None, help="Catalog folder.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--behind-proxy", is_flag=True, help="A reverse proxy in front terminates TLS.")
def serve(host, port, users_path, redis_url, catalog, tls_cert, tls_key, behind_proxy) -> None:
    """Serve the dashboard (127.0.0.1:8700 by default).

    The journal ($SERAPHIM_PG_DSN) must be migrated: every action is audited there. Commands
    to nodes are signed with $SERAPHIM_OPERATOR_SECRET; without it the dashboard only reads.
    """
    import uvicorn

    from seraphim.console import fail
    from seraphim.dashboard.app import create_app
    from seraphim.dashboard.services import DashboardSettings
    from seraphim.dashboard.users import UsersError
    from seraphim.dashboard.users import users_file
    from seraphim.journal.migrate import check_journal
    from seraphim.journal.settings import JournalError
    from seraphim.paths import default_catalog_path
    from seraphim.state.settings import RedisUnavailable
    from seraphim.state.settings import StateConfigError
    from seraphim.state.settings import check_redis
    from seraphim.state.settings import redis_settings

    if bool(tls_cert) != bool(tls_key):
        fail("give both --tls-cert and --tls-key, or neither")
    tls = bool(tls_cert)
    if not _loopback(host) and not (tls or behind_proxy):
        fail(
            f"refusing to listen on {host} without TLS: give --tls-cert and --tls-key, or "
            "--behind-proxy when a reverse proxy terminates TLS"
        )
    try:
        check_journal()
        check_redis(redis_settings(redis_url))
        settings = DashboardSettings(
            users_file=users_file(users_path),
            redis_url=redis_url,
            catalog=catalog or default_catalog_path(),
            secure_cookies=tls or behind_proxy,
        )
        app = create_app(settings)
    except (JournalError, UsersError, RedisUnavailable, StateConfigError) as e:
        fail(str(e), exit_code=1)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="*" if behind_proxy else None,
        log_level="info",
    )


@dashboard.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--users", "users_path", type=click.Path(path_type=Path), default=None, help=USERS_HELP
)
@click.password_option(envvar="SERAPHIM_DASHBOARD_PASSWORD", help=PASSWORD_HELP)
def add_user(name, role, users_path, password) -> None:
    """Add NAME (or replace their role and password) in the users file."""
    from seraphim.console import fail
    from seraphim.dashboard.users import UsersError
    from seraphim.dashboard.users import UserStore
    from seraphim.dashboard.users import users_file

    path = users_file(users_path)
    try:
        store = UserStore.load(path, missing_ok=True)
        store.set_user(name, role, password)
    except UsersError as e:
        fail(str(e))
    click.echo(f"{name} ({role}) saved in {path}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
