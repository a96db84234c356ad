"""The architecture kind's study logic (trainer_worker.study), on the tiny model, CPU only.

Optuna's storage is a SQLite file here, and the test database of `npm test` (DATABASE_URL) for the
shared-study tests: two workers on one study share its budget, and a restarted one resumes it.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from samples import learnable_records
from trainer_worker.config import TrainConfig
from trainer_worker.errors import JobFailure
from trainer_worker.study import (
    SearchSpace,
    StudyBudget,
    TrialRun,
    enqueue_starts,
    hyperparameters_to_params,
    open_study,
    run_trials,
    spent,
    storage,
    summarise,
    validation_split,
)

SPACE = SearchSpace(min_steps=20, max_steps=30, eval_every=10)
# The tiny-model recipe (learns the operator fix) and a learning rate that cannot learn anything.
GOOD = {"lora_r": 16, "lora_alpha": 32.0, "lora_dropout": 0.0, "learning_rate": 2e-2, "max_steps": 30}
BAD = {**GOOD, "learning_rate": 1e-6}


def records() -> list[dict[str, Any]]:
    """The operator fix, twice over (16 records): enough for a validation part of 3."""
    renamed = [
        {**r, "learning_id": f"m-{i}",
         "context": r["context"].replace("a", "x"), "correction": r["correction"].replace("a", "x")}
        for i, r in enumerate(learnable_records())
    ]  # fmt: skip
    return learnable_records() + renamed


def numbered(n: int) -> list[dict[str, Any]]:
    """Records that differ in a literal (so that each one is a distinct item for decontamination)."""
    return [
        {"learning_id": f"n-{i}", "language": "python", "instruction": "Fix the bug.",
         "context": f"def f(a):\n    return a - {i + 2}", "correction": f"def f(a):\n    return a + {i + 2}"}
        for i in range(n)
    ]  # fmt: skip


def trial_run(tmp_path: Path, kept: dict[int, Path] | None = None) -> TrialRun:
    split = validation_split(records())

    def keep(number: int, adapter_dir: Path) -> dict[str, Any]:
        if kept is not None:
            kept[number] = adapter_dir
        return {"bucket": "test", "key": f"trial-{number}", "sha256": "0" * 64}

    return TrialRun(
        train_records=split.train,
        validation_records=split.validation,
        base=TrainConfig(device="cpu", batch_size=8, checkpoint_every=0),
        space=SPACE,
        work_dir=tmp_path / "trials",
        keep_adapter=keep,
    )


# --- the validation split never holds the gate's frozen suite -------------------------------------


def test_the_validation_split_is_by_content_and_leaves_out_every_suite_item_and_its_variants() -> None:
    data = numbered(12)
    suite_item = {"language": "python", "context": data[0]["context"], "correction": data[0]["correction"]}
    # a renamed, re-spaced copy of the suite item, and a record teaching its answer under another prompt
    variant = {
        **data[0],
        "learning_id": "variant",
        "context": "def g(b):\n    return b  -  2   # wrong",
        "correction": "def g(b):\n    return b + 2",
    }
    same_answer = {
        **data[1],
        "learning_id": "answer",
        "context": "something else",
        "correction": data[0]["correction"],
    }
    split = validation_split([*data, variant, same_answer], [suite_item])
    kept_ids = {r["learning_id"] for r in split.train + split.validation}
    assert {"n-0", "variant", "answer"}.isdisjoint(kept_ids)
    assert split.suite_excluded == 3
    assert len(split.train) + len(split.validation) == len(data) - 1
    assert split.validation and split.train
    # by content: the same records fall on the same side in any order
    again = validation_split(list(reversed([*data, variant, same_answer])), [suite_item])
    assert sorted(r["learning_id"] for r in again.validation) == sorted(
        r["learning_id"] for r in split.validation
    )


def test_a_split_with_fewer_than_two_records_outside_the_suite_is_a_clear_non_retryable_failure() -> None:
    data = numbered(2)
    with pytest.raises(JobFailure) as failure:
        validation_split(data, [data[0]])
    assert failure.value.code == "TOO_FEW_RECORDS" and not failure.value.retryable


# --- search space, budget ------------------------------------------------------------------------


def test_a_training_configuration_maps_onto_the_search_space_keeping_numbers_out_of_range() -> None:
    params = hyperparameters_to_params(
        {"lora_r": 12, "learning_rate": 1e-7, "max_steps": 27,
         "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
        SPACE,
    )  # fmt: skip
    assert params["lora_r"] in (8, 16)  # the nearest listed rank (a categorical must be a choice)
    assert params["learning_rate"] == 1e-7  # kept: the baseline is tried as it is
    assert params["target_set"] == "attention"
    assert params["max_steps"] == 30  # on the step grid


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"trials": 0}, "INVALID_BUDGET"), ({"worker_seconds": 0}, "INVALID_BUDGET")],
)
def test_a_bad_budget_is_refused_with_a_stable_code(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(JobFailure) as failure:
        StudyBudget(**kwargs)
    assert failure.value.code == code


def test_a_bad_search_space_is_refused() -> None:
    with pytest.raises(JobFailure) as failure:
        SearchSpace(min_steps=50, max_steps=20)
    assert failure.value.code == "INVALID_SEARCH_SPACE"


# --- a study ---------------------------------------------------------------------------------------


def test_a_study_finds_a_configuration_better_than_a_bad_baseline_prunes_and_keeps_the_best_adapter(
    tmp_path: Path,
) -> None:
    study = open_study(storage(str(tmp_path / "study.db")), "s1", seed=7, space=SPACE)
    # warm start first (the previous best), then a variant of it, then the bad baseline: by the time the
    # baseline runs two trials completed, so the median pruner compares it at step 10 and stops it
    enqueue_starts(study, [GOOD, {**GOOD, "lora_r": 8}, BAD], SPACE)
    kept: dict[int, Path] = {}
    budget = StudyBudget(trials=4, worker_seconds=600)
    ran = run_trials(study, trial_run(tmp_path, kept), budget)
    summary = summarise(study, budget)

    assert ran == 4 and summary["budget"]["spent_trials"] == 4
    by_number = {t["number"]: t for t in summary["trials"]}
    assert by_number[2]["params"]["learning_rate"] == 1e-6
    assert by_number[2]["state"] == "pruned" and by_number[2]["pruned_at_step"] == 10
    assert summary["counts"]["pruned"] >= 1
    assert summary["counts"]["complete"] + summary["counts"]["pruned"] == 4
    best = summary["best"]
    assert best["params"]["learning_rate"] > 1e-3
    assert best["value"] < by_number[2]["intermediate"]["10"]
    # the best trial's adapter was kept while it ran, and it is a real adapter
    assert best["artifact"]["key"] == f"trial-{best['number']}"
    assert (kept[best["number"]] / "adapter_model.safetensors").is_file()
    assert best["hyperparameters"]["learning_rate"] == best["params"]["learning_rate"]
    assert best["hyperparameters"]["target_modules"]
    # every trial reports its validation loss at the same steps (the pruner compares like with like)
    assert all(set(t["intermediate"]) <= {"10", "20", "30"} for t in summary["trials"])
    assert summary["importance"]["values"] is not None
    assert set(summary["importance"]["values"]) <= set(best["params"])


def test_importance_with_fewer_than_two_complete_trials_says_why_there_is_none(tmp_path: Path) -> None:
    study = open_study(storage(str(tmp_path / "one.db")), "one", seed=1, space=SPACE)
    enqueue_starts(study, [GOOD], SPACE)
    budget = StudyBudget(trials=1, worker_seconds=600)
    run_trials(study, trial_run(tmp_path), budget)
    summary = summarise(study, budget)
    assert summary["counts"]["complete"] == 1
    assert summary["importance"]["values"] is None
    assert "at least 2" in summary["importance"]["reason"]


def test_the_worker_seconds_budget_stops_the_study(tmp_path: Path) -> None:
    study = open_study(storage(str(tmp_path / "secs.db")), "secs", seed=1, space=SPACE)
    budget = StudyBudget(trials=50, worker_seconds=0.001)  # spent by the first trial
    assert run_trials(study, trial_run(tmp_path), budget) == 1
    trials, seconds = spent(study)
    assert trials == 1 and seconds > 0.001


# --- the shared study in Postgres: parallel workers, resume ------------------------------------


@pytest.fixture
def postgres_url() -> Any:
    """A database of its own in the test Postgres (DATABASE_URL, set by `npm test`)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("DATABASE_URL is not set (npm test sets it to the test Postgres)")
    import psycopg2

    name = f"genesis_study_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(url.replace("postgres://", "postgresql://", 1))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    yield f"{base.replace('postgres://', 'postgresql+psycopg2://', 1)}/{name}"
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_two_workers_share_one_study_in_postgres_and_a_restarted_worker_resumes_it(
    tmp_path: Path, postgres_url: str
) -> None:
    name = "genesis-tiny-shared"
    budget = StudyBudget(trials=4, worker_seconds=600)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            study = open_study(storage(postgres_url), name, seed=i, space=SPACE)
            enqueue_starts(study, [GOOD], SPACE)  # both enqueue; skip_if_exists keeps one
            run_trials(study, trial_run(tmp_path / f"w{i}"), budget)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    study = open_study(storage(postgres_url), name, seed=3, space=SPACE)
    finished, _ = spent(study)
    # each worker checks the shared budget before it asks for a trial: at most one over per extra worker
    assert 4 <= finished <= 5
    assert sum(1 for t in study.trials if t.params.get("learning_rate") == GOOD["learning_rate"]) == 1

    # a worker that starts again (a retried job) continues the same study: numbers go on, nothing lost
    resumed = StudyBudget(trials=finished + 1, worker_seconds=600)
    assert run_trials(study, trial_run(tmp_path / "again"), resumed) == 1
    assert spent(study)[0] == finished + 1
    assert max(t.number for t in study.trials) >= finished


def test_the_split_compares_with_the_suite_at_the_bridges_normalisation_level() -> None:
    """At `identifiers` (the default) a renamed copy of a suite item matches it; at `layout` (a
    deployment whose lessons are "the same line with another name") only spacing and comments do."""
    data = records()  # the operator fix under sixteen names: one item at `identifiers`
    suite = [data[0]]
    with pytest.raises(JobFailure):
        validation_split(data, suite)  # every record is a renamed copy of the suite item
    split = validation_split(data, suite, level="layout")
    assert split.suite_excluded == 1
    assert len(split.train) + len(split.validation) == len(data) - 1
