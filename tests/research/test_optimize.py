"""Optuna studies in PostgreSQL: objectives, constraints, pruning, and resuming a killed study."""

import json
import subprocess
import sys
import time
import uuid

import optuna
import pandas as pd
import pytest

from seraphim.research.objectives import parse_objective
from seraphim.research.optimize import Study
from seraphim.research.optimize import make_sampler
from seraphim.research.optimize import open_storage
from seraphim.research.optimize import run_study
from seraphim.research.params import ParamError
from seraphim.research.params import parse_axis
from seraphim.research.params import parse_constraint
from seraphim.research.trial import TrialRunner
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec

STORAGE = "postgresql+psycopg://postgres@127.0.0.1:5432/seraphim_research_test"
COMPLETE = optuna.trial.TrialState.COMPLETE
TRIALS = 60  # in the killed study (the kill comes after the third)


@pytest.fixture
def study_name():
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    storage = open_storage(STORAGE)
    if name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        optuna.delete_study(study_name=name, storage=storage)


def test_objectives_parse_with_their_direction():
    assert parse_objective("sharpe").direction == "maximize"
    assert parse_objective("volatility").direction == "minimize"
    assert parse_objective("avg_win:max").direction == "maximize"
    with pytest.raises(ParamError, match="unknown objective 'sharp'"):
        parse_objective("sharp")


def test_constraints_and_drawdown_limit(tmp_path, study_name):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-05-01", "2024-05-20")
    axes = [parse_axis("fast=2:20:2"), parse_axis("slow=10:40:10")]
    goals = [parse_objective("sharpe"), parse_objective("max_drawdown")]
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(STORAGE),
        directions=[g.direction for g in goals],
        sampler=make_sampler(goals, seed=1),
    )
    rule = parse_constraint("fast<slow", {"fast", "slow"})
    run_study(study, Study(TrialRunner(spec), axes, goals, [rule], max_drawdown=0.02), 10)
    assert isinstance(study.sampler, optuna.samplers.NSGAIISampler)
    for trial in study.trials:
        if trial.params["fast"] >= trial.params["slow"]:
            assert trial.state == optuna.trial.TrialState.PRUNED
            assert trial.user_attrs["result"]["reason"] == "constraint fast<slow is false"
        else:
            assert trial.state == COMPLETE
            sharpe, drawdown = trial.values
            assert sharpe == trial.user_attrs["result"]["sharpe"]
            assert trial.constraints == {"max_drawdown": pytest.approx(-drawdown - 0.02)}
    feasible = {
        t.number for t in study.trials if t.constraints and t.constraints["max_drawdown"] <= 0
    }
    assert {t.number for t in study.best_trials} <= feasible


def test_hopeless_trials_are_pruned(tmp_path, study_name):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-05-01", "2024-06-01")
    goals = [parse_objective("total_return")]
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(STORAGE),
        sampler=make_sampler(goals, seed=2),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3),
    )
    axes = [parse_axis("fast=2:10:1"), parse_axis("slow=12:60:4")]
    run_study(study, Study(TrialRunner(spec), axes, goals, prune=True), 14)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "no trial was pruned"
    assert all(t.intermediate_values for t in pruned)
    assert all(t.user_attrs["result"]["status"] == "pruned" for t in pruned)


def _config(tmp_path) -> str:
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path / "out", "2024-06-01", "2024-08-01")
    path = tmp_path / "study.json"
    from msgspec import to_builtins

    path.write_text(json.dumps(to_builtins(spec)))
    return str(path)


def _optimize(config, name, trials=TRIALS):
    return [
        sys.executable,
        "-c",
        "from seraphim.cli import main; main()",
        "research",
        "optimize",
        config,
        "--grid",
        "fast=2:20:1",
        "--grid",
        "slow=25:60:5",
        "--trials",
        str(trials),
        "--study",
        name,
        "--storage",
        STORAGE,
        "--no-prune",
    ]


@pytest.mark.slow
def test_a_killed_study_resumes_without_redoing_finished_trials(tmp_path, study_name):
    config = _config(tmp_path)
    # The first process is asked for far more trials than it can finish before the kill (a
    # reused engine runs a trial in a fraction of a second); the second one completes TRIALS.
    first = subprocess.Popen(_optimize(config, study_name, 10 * TRIALS), stdout=subprocess.DEVNULL)
    storage = open_storage(STORAGE)
    deadline = time.monotonic() + 180
    try:
        while True:
            assert first.poll() is None, "the study finished before it could be killed"
            assert time.monotonic() < deadline, "no 3 finished trials within 180 s"
            names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
            if study_name in names:
                study = optuna.load_study(study_name=study_name, storage=storage)
                if len(study.get_trials(states=(COMPLETE,))) >= 3:
                    break
            time.sleep(0.2)
    finally:
        first.kill()  # SIGKILL: no chance to clean up
        first.wait(30)
    before = {t.number: t for t in study.get_trials(states=(COMPLETE,))}
    assert 3 <= len(before) < TRIALS
    assert {t.user_attrs["result"]["pid"] for t in before.values()} == {first.pid}

    second = subprocess.run(
        _optimize(config, study_name), capture_output=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    study = optuna.load_study(study_name=study_name, storage=storage)
    after = study.get_trials(states=(COMPLETE,))
    assert len(after) == TRIALS
    for trial in after:
        if trial.number in before:  # finished before the kill: kept as it was
            old = before[trial.number]
            assert (trial.params, trial.values) == (old.params, old.values)
            assert trial.datetime_complete == old.datetime_complete
        else:  # run by the resumed process only
            assert trial.user_attrs["result"]["pid"] != first.pid
    assert sum(t.user_attrs["result"]["pid"] != first.pid for t in after) == TRIALS - len(before)


def test_command_writes_trials_and_a_report(tmp_path, study_name):
    from click.testing import CliRunner

    from seraphim.research.cli import research

    config = _config(tmp_path)
    args = ["optimize", config, "--grid", "fast=2:10:2", "--grid", "slow=20:40:10"]
    args += ["--trials", "6", "--study", study_name, "--storage", STORAGE, "--end", "2024-06-15"]
    result = CliRunner().invoke(research, [*args, "--output", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert f"study '{study_name}': 0 finished trials stored, target 6" in result.output
    frame = pd.read_csv(tmp_path / "r" / f"{study_name}.csv", index_col="trial")
    assert len(frame) == 6
    assert (frame["status"] == "ok").all()
    assert "Deflated Sharpe ratio" in (tmp_path / "r" / f"{study_name}.html").read_text()
    again = CliRunner().invoke(research, [*args, "--output", str(tmp_path / "r")])
    assert "6 finished trials stored, target 6" in again.output
