"""``seraphim control TRADER ...``: operator commands to a running node over Redis."""

from __future__ import annotations

import getpass

import click
import yaml

from seraphim.ops.commands import TRADING_STATES
from seraphim.ops.commands import CommandError
from seraphim.ops.commands import ManualOrder
from seraphim.ops.commands import new_command


@click.group()
@click.argument("trader")
@click.option("--redis", "redis_url", help="Redis URL (default $SERAPHIM_REDIS_URL or local).")
@click.option("--operator", default=None, help="Who is acting (default: the login name).")
@click.option("--id", "command_id", default=None, help="Command id (resend one: it runs once).")
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for the answer.")
@click.pass_context
def control(ctx, trader, redis_url, operator, command_id, timeout) -> None:
    """Pause, resume, reconfigure, flatten, halt or trade in TRADER's running node.

    Commands are signed with $SERAPHIM_OPERATOR_SECRET (or the file named by
    $SERAPHIM_OPERATOR_SECRET_FILE); the node answers done or refused with the reason.
    """
    ctx.obj = {
        "trader": trader,
        "redis": redis_url,
        "operator": operator or getpass.getuser(),
        "id": command_id,
        "timeout": timeout,
    }


def _send(ctx: click.Context, action: str, **fields) -> None:
    from seraphim.ops.client import ControlClient
    from seraphim.ops.client import ControlError
    from seraphim.ops.secret import OperatorSecretError
    from seraphim.state.settings import StateConfigError
    from seraphim.state.settings import StateError

    o = ctx.obj
    if o["id"]:
        fields["id"] = o["id"]
    try:
        command = new_command(o["trader"], action, o["operator"], **fields)
        with ControlClient.connect(o["redis"]) as client:
            result = client.send(command, timeout=o["timeout"])
    except (CommandError, ControlError, OperatorSecretError, StateConfigError, StateError) as e:
        raise click.ClickException(str(e)) from None
    again = " (duplicate: not run again)" if result.duplicate else ""
    if not result.ok:
        raise click.ClickException(f"refused: {result.detail}{again}")
    click.echo(f"done: {result.detail}{again}")


@control.command()
@click.argument("strategy")
@click.pass_context
def pause(ctx, strategy) -> None:
    """Stop STRATEGY trading (indicators keep updating)."""
    _send(ctx, "pause", strategy_id=strategy)


@control.command()
@click.argument("strategy")
@click.pass_context
def resume(ctx, strategy) -> None:
    """Let a paused STRATEGY trade again."""
    _send(ctx, "resume", strategy_id=strategy)


@control.command("set-params")
@click.argument("strategy")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@click.pass_context
def set_params(ctx, strategy, assignments) -> None:
    """Change STRATEGY's parameters (values are YAML scalars: 5, 0.5, true, text)."""
    params = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.ClickException(f"expected NAME=VALUE, got {item!r}")
        try:
            params[name] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            params[name] = value
    _send(ctx, "set-params", strategy_id=strategy, params=params)


@control.command()
@click.argument("strategy")
@click.pass_context
def start(ctx, strategy) -> None:
    """Start a stopped STRATEGY."""
    _send(ctx, "start", strategy_id=strategy)


@control.command()
@click.argument("strategy")
@click.pass_context
def stop(ctx, strategy) -> None:
    """Stop STRATEGY (nautilus's stop: it cancels nothing unless configured to)."""
    _send(ctx, "stop", strategy_id=strategy)


_SCOPE = [
    click.option("--strategy", default=None, help="Only this strategy (default: all)."),
    click.option("--instrument", default=None, help="Only this instrument, e.g. BTC/USD.KRAKEN."),
]


def _scoped(fn):
    for option in reversed(_SCOPE):
        fn = option(fn)
    return fn


@control.command()
@_scoped
@click.option("--order", "client_order_id", default=None, help="Only this order (client id).")
@click.pass_context
def cancel(ctx, strategy, instrument, client_order_id) -> None:
    """Cancel open orders (one by its client order id, of a strategy, an instrument, or all)."""
    _send(
        ctx, "cancel", strategy_id=strategy, instrument_id=instrument,
        client_order_id=client_order_id,
    )  # fmt: skip


@control.command()
@_scoped
@click.pass_context
def flatten(ctx, strategy, instrument) -> None:
    """Cancel open orders and close positions (of a strategy, an instrument, or all)."""
    _send(ctx, "flatten", strategy_id=strategy, instrument_id=instrument)


@control.command()
@click.argument("trading_state", type=click.Choice(TRADING_STATES, case_sensitive=False))
@click.pass_context
def state(ctx, trading_state) -> None:
    """Set the node's trading state: ACTIVE, REDUCING or HALTED."""
    _send(ctx, "state", state=trading_state.upper())


@control.command("reset-guard")
@click.pass_context
def reset_guard(ctx) -> None:
    """Clear a risk-guard trip and trade again (ACTIVE)."""
    _send(ctx, "reset-guard")


@control.command()
@click.argument("instrument")
@click.argument("side", type=click.Choice(["BUY", "SELL"], case_sensitive=False))
@click.argument("quantity")
@click.option("--limit", "price", default=None, help="Limit price (default: a market order).")
@click.option("--tif", type=click.Choice(["GTC", "IOC", "FOK", "DAY"]), default=None)
@click.pass_context
def order(ctx, instrument, side, quantity, price, tif) -> None:
    """Submit a manual order through the risk gate (as the operator strategy)."""
    manual = ManualOrder(
        instrument_id=instrument,
        side=side.upper(),
        quantity=quantity,
        type="LIMIT" if price is not None else "MARKET",
        price=price,
        time_in_force=tif,
    )
    _send(ctx, "order", order=manual)
