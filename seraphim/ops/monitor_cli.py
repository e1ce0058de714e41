"""``seraphim monitor``: watch every node's heartbeat in Redis and alert when one goes silent."""

from __future__ import annotations

import signal
import threading

import click


@click.command()
@click.option(
    "--alerts",
    "alerts_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Alert rules and channels (YAML); heartbeat_missing sets the timeout.",
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds without a heartbeat before a node counts as lost (default 10).",
)
@click.option(
    "--interval", type=float, default=1.0, show_default=True, help="Seconds between looks at Redis."
)
@click.option("--redis", "redis_url", default=None, help="Redis URL (default $SERAPHIM_REDIS_URL).")
def monitor(alerts_file, timeout, interval, redis_url) -> None:
    """Watch every node's heartbeat through Redis; alert when one goes silent (until Ctrl-C)."""
    from seraphim.ops.alerts.delivery import AlertDispatcher
    from seraphim.ops.alerts.rules import AlertRulesError
    from seraphim.ops.alerts.rules import load_rules
    from seraphim.ops.watch import HeartbeatWatcher
    from seraphim.ops.watch import watcher_rules
    from seraphim.state.settings import StateConfigError
    from seraphim.state.settings import StateError
    from seraphim.state.settings import check_redis
    from seraphim.state.settings import connect_redis

    if timeout is not None and timeout <= 0:
        raise click.BadParameter("must be positive", param_hint="--timeout")
    try:
        rules = watcher_rules(load_rules(alerts_file) if alerts_file else None, timeout)
        settings = check_redis(redis_url)
        client = connect_redis(settings)
    except (AlertRulesError, StateConfigError, StateError) as e:
        raise click.ClickException(str(e)) from None
    watcher = HeartbeatWatcher(client, rules)
    dispatcher = AlertDispatcher(rules, click.echo)
    dispatcher.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(
        f"watching heartbeats on {settings.url} (lost after {watcher.threshold:g} s)", err=True
    )
    import redis

    try:
        while not stop.is_set():
            try:
                for notice in watcher.poll():
                    dispatcher.submit(notice)
            except (redis.RedisError, OSError) as e:
                click.echo(f"Redis at {settings.url} unavailable: {e}", err=True)
            stop.wait(interval)
    finally:
        dispatcher.stop(10.0)
        client.close()
