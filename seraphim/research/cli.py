"""``seraphim research``: sweeps, optimisation, walk-forward and bias checks."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import click
import msgspec
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.progress import TimeRemainingColumn
from rich.table import Table

from seraphim.backtest.config import BacktestSpec
from seraphim.backtest.config import ConfigError
from seraphim.backtest.config import load_spec
from seraphim.console import console
from seraphim.console import fail
from seraphim.research.objectives import Objective
from seraphim.research.objectives import parse_objective
from seraphim.research.params import ParamError
from seraphim.research.params import candidates
from seraphim.research.params import parse_axis
from seraphim.research.params import parse_constraint
from seraphim.research.sweep import METRIC_COLUMNS
from seraphim.research.sweep import best
from seraphim.research.sweep import run_sweep
from seraphim.research.sweep import write_results


@click.group()
def research() -> None:
    """Parameter sweeps, optimisation, walk-forward and bias checks."""


def _load(config: Path, start: str | None, end: str | None) -> BacktestSpec:
    try:
        spec = load_spec(config)
    except ConfigError as e:
        fail(str(e))
    return msgspec.structs.replace(spec, start=start or spec.start, end=end or spec.end)


@contextlib.contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[..., None]]:
    columns = (
        TextColumn(f"{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(what, total=total)
        yield lambda *_: progress.advance(task)


def _axes_and_rules(grids, constraints) -> tuple[list, list]:
    """The parameter axes (``--grid``) and the constraints over them; ParamError when none."""
    axes = [parse_axis(g) for g in grids]
    if not axes:
        raise ParamError("give at least one --grid NAME=start:stop:step (or a,b or low~high)")
    return axes, [parse_constraint(c, {a.name for a in axes}) for c in constraints]


def _print_top(frame, goal: Objective, top: int) -> None:
    done = frame[frame["status"] == "ok"]
    if done.empty:
        return
    minimize = goal.direction == "minimize"
    ranked = done.sort_values(goal.metric, ascending=minimize, na_position="last")
    title = f"best {top} by {goal.metric}"
    table = Table(title=title)
    shown = [c for c in ranked.columns if c not in ("status", "reason", "seconds")]
    table.add_column("trial", justify="right")
    for column in shown:
        table.add_column(column, justify="right")
    for number, row in ranked.head(top).iterrows():
        table.add_row(str(number), *(_cell(row[c]) for c in shown))
    console.print(table)


def _print_guards(report) -> None:
    if report.deflated is not None:
        d = report.deflated
        console.print(
            f"deflated Sharpe ratio {d.probability:.3f} (best Sharpe {d.sharpe:.3g} vs "
            f"{d.threshold:.3g} expected from luck over {d.trials} trials)"
        )
    for method, intervals in report.intervals.items():
        cells = ", ".join(f"{k} {i.low:.2%} … {i.high:.2%}" for k, i in intervals.items())
        console.print(f"95 % by trade {method}: {cells}")


def _cell(value: object) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M").removesuffix(" 00:00")
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return "-" if value is None else str(value)


_SPACE_OPTIONS = [
    click.option(
        "--grid",
        "grids",
        multiple=True,
        help="NAME=start:stop:step (inclusive), NAME=a,b,c or NAME=low~high (with --samples).",
    ),
    click.option("--constraint", "constraints", multiple=True, help="e.g. 'fast<slow'."),
]


def _space_options(command):
    for option in reversed(_SPACE_OPTIONS):
        command = option(command)
    return command


def _run_options(command):
    for option in reversed(
        [
            click.option("--workers", type=int, default=None, help="Local processes [CPU count]."),
            click.option("--ray", "ray_address", default=None, help="Run on this Ray cluster."),
            click.option("--start", default=None, help="Override the config's start (ISO)."),
            click.option("--end", default=None, help="Override the config's end (ISO)."),
            click.option(
                "--output",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Results folder [<config output>/research].",
            ),
        ]
    ):
        command = option(command)
    return command


@research.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_space_options
@click.option("--samples", type=int, default=None, help="Random points instead of the grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --samples.")
@click.option("--objective", default="sharpe", show_default=True, help="Metric to rank by.")
@click.option("--top", type=int, default=10, show_default=True)
@_run_options
def sweep(
    config,
    grids,
    constraints,
    samples,
    seed,
    objective,
    top,
    workers,
    ray_address,
    start,
    end,
    output,
) -> None:
    """Run CONFIG once for every point of a parameter grid (or random sample)."""
    from seraphim.research.executors import make_executor

    spec = _load(config, start, end)
    try:
        axes, rules = _axes_and_rules(grids, constraints)
        points = candidates(axes, rules, samples, seed)
        goal = parse_objective(objective)
        if goal.metric not in METRIC_COLUMNS:
            raise ParamError(f"a sweep ranks by one of {', '.join(METRIC_COLUMNS)}")
    except ParamError as e:
        fail(str(e))
    runnable = sum(1 for p in points if not p.skipped)
    console.print(f"{len(points)} trials, {len(points) - runnable} skipped by constraints")
    try:
        executor = make_executor(spec, workers, ray_address)
    except ConfigError as e:
        fail(str(e))
    with _progress(runnable, f"sweep ({executor.workers} workers)") as advance:
        outcome = run_sweep(points, executor, advance)
    frame = outcome.frame()
    path = write_results(frame, (output or Path(spec.output) / "research") / "sweep.csv")
    _print_top(frame, goal, top)
    errors = frame[frame["status"] == "error"]
    if not errors.empty:
        console.print(f"{len(errors)} trials failed, e.g. {errors['reason'].iloc[0]}")
    minimize = goal.direction == "minimize"
    winner = best(frame, goal.metric, minimize)
    if winner is not None:
        console.print(f"best trial {winner.name}: {goal.metric} {_cell(winner[goal.metric])}")
    if winner is not None:
        from seraphim.research.summary import study_report

        html_path = path.parent / "sweep.html"
        report = study_report(spec, frame, [a.name for a in axes], goal.metric, minimize, html_path)
        _print_guards(report)
        console.print(f"report: {html_path}")
    console.print(f"results: {path}")
    if outcome.interrupted:
        kept = sum(r.status != "skipped" for r in outcome.results)
        console.print(f"interrupted: {kept} finished trials kept")
        raise SystemExit(130)


@research.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_space_options
@click.option("--trials", type=int, required=True, help="Finished trials the study should hold.")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    default=["sharpe"],
    show_default=True,
    help="Metric to optimise (repeat for several: NSGA-II); METRIC:max|min for others.",
)
@click.option("--max-drawdown", type=float, default=None, help="Constraint, e.g. 0.25 (25 %).")
@click.option("--prune/--no-prune", default=True, show_default=True, help="Median pruning.")
@click.option("--study", "study_name", default=None, help="Study name [config file stem].")
@click.option(
    "--storage",
    default=None,
    help=f"Optuna storage URL [${'{'}SERAPHIM_RESEARCH_DB{'}'} or PostgreSQL on 127.0.0.1].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--start", default=None, help="Override the config's start (ISO).")
@click.option("--end", default=None, help="Override the config's end (ISO).")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results folder [<config output>/research].",
)
def optimize(
    config,
    grids,
    constraints,
    trials,
    objectives,
    max_drawdown,
    prune,
    study_name,
    storage,
    seed,
    start,
    end,
    output,
) -> None:
    """Optimise CONFIG's parameters with Optuna; a killed study resumes where it stopped."""
    import optuna

    from seraphim.research.optimize import Study
    from seraphim.research.optimize import finished
    from seraphim.research.optimize import make_sampler
    from seraphim.research.optimize import open_storage
    from seraphim.research.optimize import run_study
    from seraphim.research.optimize import storage_url
    from seraphim.research.trial import TrialRunner

    spec = _load(config, start, end)
    try:
        axes, rules = _axes_and_rules(grids, constraints)
        goals = [parse_objective(o) for o in objectives]
        storage = open_storage(storage_url(storage))
        runner = TrialRunner(spec)
    except (ParamError, ConfigError) as e:
        fail(str(e))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = study_name or config.stem
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=[g.direction for g in goals],
        sampler=make_sampler(goals, seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5) if prune else None,
        load_if_exists=True,
    )
    done = finished(study)
    console.print(f"study {name!r}: {done} finished trials stored, target {trials}")
    work = Study(runner, axes, goals, rules, max_drawdown, prune)
    try:
        with _progress(max(0, trials - done), f"optimize {name}") as advance:
            run_study(study, work, trials, advance)
    except KeyboardInterrupt:
        console.print(f"interrupted: {finished(study)} finished trials kept in the study")
        raise SystemExit(130) from None
    _print_study(study, goals)
    from seraphim.research.optimize import trials_frame
    from seraphim.research.summary import study_report

    folder = output or Path(spec.output) / "research"
    frame = trials_frame(study)
    path = write_results(frame, folder / f"{name}.csv")
    if (frame["status"] == "ok").any():
        goal = goals[0]
        report = study_report(
            spec, frame, [a.name for a in axes], goal.metric, goal.direction == "minimize",
            folder / f"{name}.html",
        )  # fmt: skip
        _print_guards(report)
        console.print(f"report: {folder / f'{name}.html'}")
    console.print(f"results: {path}")


def _print_study(study, goals) -> None:
    complete = [t for t in study.trials if t.values is not None]
    console.print(f"{len(study.trials)} trials, {len(complete)} complete")
    if not complete:
        return
    if not study.best_trials:
        console.print("no complete trial meets the constraints")
    for trial in study.best_trials[:5]:
        values = ", ".join(f"{g.metric} {v:.4g}" for g, v in zip(goals, trial.values, strict=True))
        console.print(f"best trial {trial.number}: {values}  params {trial.params}")


@research.command("walk-forward")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_space_options
@click.option("--train", required=True, help="In-sample window, e.g. 2y, 18m.")
@click.option("--test", "test_period", required=True, help="Out-of-sample window, e.g. 6m.")
@click.option("--anchored", is_flag=True, help="Every in-sample window starts at the start.")
@click.option("--objective", default="sharpe", show_default=True, help="In-sample metric.")
@_run_options
def walk_forward_command(
    config,
    grids,
    constraints,
    train,
    test_period,
    anchored,
    objective,
    workers,
    ray_address,
    start,
    end,
    output,
) -> None:
    """Optimise in-sample, test out-of-sample on each fold, stitch the out-of-sample equity."""
    import pandas as pd

    from seraphim.research.executors import make_executor
    from seraphim.research.walkforward import make_folds
    from seraphim.research.walkforward import parse_period
    from seraphim.research.walkforward import walk_forward

    spec = _load(config, start, end)
    if spec.start is None or spec.end is None:
        fail("walk-forward needs a start and an end (in the config or --start/--end)")
    executor = None
    try:
        axes, rules = _axes_and_rules(grids, constraints)
        space = candidates(axes, rules)
        goal = parse_objective(objective)
        folds = make_folds(
            pd.Timestamp(spec.start, tz="UTC"),
            pd.Timestamp(spec.end, tz="UTC"),
            parse_period(train),
            parse_period(test_period),
            anchored,
        )
        executor = make_executor(spec, workers, ray_address)
        console.print(f"{len(folds)} folds x {sum(not c.skipped for c in space)} candidates")
        result = walk_forward(executor, folds, space, goal.metric, goal.direction == "minimize")
    except (ParamError, ConfigError) as e:
        if executor is not None:
            executor.terminate()
        fail(str(e))
    except KeyboardInterrupt:
        if executor is not None:
            executor.terminate()
        fail("interrupted: a walk-forward needs every fold, nothing was written", 130)
    folder = output or Path(spec.output) / "research"
    frame = result.frame()
    write_results(frame, folder / "walk_forward.csv")
    write_results(result.stitched.equity.to_frame("equity"), folder / "walk_forward_equity.csv")
    table = Table(title="walk-forward folds")
    for column in ["fold", *frame.columns]:
        table.add_column(column, justify="right")
    for number, row in frame.iterrows():
        table.add_row(str(number), *(_cell(v) for v in row))
    console.print(table)
    metrics = result.metrics
    console.print(
        f"stitched out-of-sample: return {_cell(metrics.get('total_return'))}, "
        f"CAGR {_cell(metrics.get('cagr'))}, Sharpe {_cell(metrics.get('sharpe'))}, "
        f"max drawdown {_cell(metrics.get('max_drawdown'))}"
    )
    console.print(f"walk-forward efficiency {_cell(result.efficiency)}")
    stability = ", ".join(f"{k} {v:.3g}" for k, v in result.stability().items())
    console.print(f"parameter stability (0 = same every fold): {stability}")
    from seraphim.research.report import StudyReport
    from seraphim.research.report import write_study_report
    from seraphim.research.robustness import trade_intervals

    oos_trades = [p for f in result.folds for p in f.out_of_sample.trade_pnls]
    report = StudyReport(
        spec.name,
        frame.assign(status="ok", reason=""),
        [a.name for a in axes],
        "oos_sharpe",
        intervals=trade_intervals(oos_trades, float(result.stitched.equity.iloc[0])),
        walk_forward=result,
    )
    write_study_report(report, folder / "walk_forward.html")
    console.print(f"results: {folder / 'walk_forward.csv'}, report {folder / 'walk_forward.html'}")


@research.command()
@click.argument("strategy")
@click.option("--instrument", default="BTC/USD.KRAKEN", show_default=True)
@click.option("--bar", "bar_spec", default="1-HOUR-LAST", show_default=True)
@click.option("--param", "params", multiple=True, help="Strategy parameter NAME=VALUE.")
@click.option("--catalog", "catalog_path", type=click.Path(path_type=Path), default=None)
@click.option("--start", default=None, help="Start of the checked window (ISO).")
@click.option("--end", default=None, help="End of the checked window (ISO).")
@click.option("--cuts", type=int, default=4, show_default=True, help="Lookahead cut points.")
@click.option("--starts", type=int, default=2, show_default=True, help="Later warm-up starts.")
@click.option(
    "--settle",
    type=int,
    default=None,
    help="Bars a later start may warm up before it is compared [a quarter of the window].",
)
def bias(
    strategy, instrument, bar_spec, params, catalog_path, start, end, cuts, starts, settle
) -> None:
    """
    Check STRATEGY (a registered name, module:name, or a backtest config file) for lookahead
    and warm-up bias; exits 1 when it finds bias (for CI).
    """
    import yaml

    from seraphim.backtest.config import parse_spec
    from seraphim.paths import default_catalog_path
    from seraphim.research.bias import BiasCheckError
    from seraphim.research.bias import check_bias

    try:
        if Path(strategy).is_file():
            spec = _load(Path(strategy), start, end)
        else:
            values = {}
            for pair in params:
                name, sep, value = pair.partition("=")
                if not sep:
                    raise ParamError(f"bad --param {pair!r}: expected NAME=VALUE")
                values[name.strip()] = yaml.safe_load(value)
            bar_type = f"{instrument}-{bar_spec}-EXTERNAL"
            spec = parse_spec(
                {
                    "name": f"bias {strategy}",
                    "catalog": str(catalog_path or default_catalog_path()),
                    "start": start,
                    "end": end,
                    "venues": [{"name": instrument.rsplit(".", 1)[-1], "account_type": "MARGIN"}],
                    "data": [{"bar_type": bar_type}],
                    "strategies": [{"name": strategy, "params": values}],
                },
                source="bias",
            )
        report = check_bias(spec, cuts, starts, settle)
    except (ParamError, ConfigError, BiasCheckError) as e:
        fail(str(e))
    console.print(
        f"{report.orders} orders; lookahead: {report.lookahead_cuts} cuts; warm-up: "
        f"{report.warmup_starts} later starts compared after {report.settle_bars} bars"
    )
    for finding in report.findings:
        console.print(f"[bold red]{finding.check} bias[/] at {finding.at}: {finding.detail}")
    if report.biased:
        raise SystemExit(1)
    console.print("no bias found")
