"""The architecture kind's study logic (trainer_worker.study), on the tiny model, CPU only.

One trial per job (ADR 0025): run_one_trial asks, trains and tells one trial tagged with its job id.
Optuna's storage is a SQLite file here, and the test database of `npm test` (DATABASE_URL) for the
shared-study tests: two workers run trials of one study at once, and a dead worker's trial is re-run.
"""

from __future__ import annotations

import os
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
    run_one_trial,
    spent,
    storage,
    suggest,
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


def run_jobs(study: Any, run: TrialRun, n: int, worker_id: str = "w") -> list[Any]:
    """n trial jobs, one after the other, as a worker would get them from the queue."""
    return [run_one_trial(study, run, job_id=str(uuid.uuid4()), worker_id=worker_id) for _ in range(n)]


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
    ran = run_jobs(study, trial_run(tmp_path, kept), 4)
    summary = summarise(study, budget)

    assert [t.number for t in ran] == [0, 1, 2, 3] and summary["budget"]["spent_trials"] == 4
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
    run_jobs(study, trial_run(tmp_path), 1)
    summary = summarise(study, budget)
    assert summary["counts"]["complete"] == 1
    assert summary["importance"]["values"] is None
    assert "at least 2" in summary["importance"]["reason"]


def test_a_redelivered_trial_job_answers_with_its_finished_trial_without_running_another(
    tmp_path: Path,
) -> None:
    study = open_study(storage(str(tmp_path / "again.db")), "again", seed=1, space=SPACE)
    enqueue_starts(study, [GOOD], SPACE)
    run = trial_run(tmp_path)
    first = run_one_trial(study, run, job_id="job-1", worker_id="w1")
    again = run_one_trial(study, run, job_id="job-1", worker_id="w2")
    assert again.number == first.number and again.value == first.value
    assert len(study.trials) == 1
    assert first.user_attrs["job_id"] == "job-1" and first.user_attrs["worker_id"] == "w1"


def test_each_trial_job_opening_the_study_afresh_proposes_its_own_configuration(tmp_path: Path) -> None:
    store = storage(str(tmp_path / "fresh.db"))
    run = trial_run(tmp_path)
    proposed = []
    for i in range(3):  # three trial jobs, each opening the study as a worker does
        study = open_study(store, "fresh", seed=5, space=SPACE)
        proposed.append(run_one_trial(study, run, job_id=f"job-{i}", worker_id="w").params)
    assert len({tuple(sorted(p.items())) for p in proposed}) == 3, proposed
    # and the same jobs on a new study, one at a time, propose the same again: reproducible
    again = storage(str(tmp_path / "again.db"))
    first = run_one_trial(open_study(again, "fresh", seed=5, space=SPACE), run, job_id="j", worker_id="w")
    assert first.params == proposed[0]


def test_a_trial_left_running_by_a_dead_worker_is_failed_and_its_job_runs_a_new_trial(
    tmp_path: Path,
) -> None:
    from optuna.trial import TrialState

    study = open_study(storage(str(tmp_path / "dead.db")), "dead", seed=1, space=SPACE)
    enqueue_starts(study, [GOOD], SPACE)
    # the worker that got job-7 first died mid-trial: its trial is RUNNING, tagged with the job id
    ghost = study.ask()
    ghost.set_user_attr("job_id", "job-7")
    suggest(ghost, SPACE)  # it had sampled its configuration (the enqueued start) when it died
    rerun = run_one_trial(study, trial_run(tmp_path), job_id="job-7", worker_id="w2")
    states = {t.number: t.state for t in study.trials}
    assert states[ghost.number] == TrialState.FAIL
    assert rerun.number != ghost.number and rerun.state == TrialState.COMPLETE
    assert study.trials[ghost.number].user_attrs["failed_reason"].startswith("its worker died")
    # the same configuration runs again (the enqueued start is not lost), under the same job id
    assert rerun.params == ghost.params and rerun.params["learning_rate"] == GOOD["learning_rate"]
    assert rerun.user_attrs["job_id"] == "job-7" and rerun.user_attrs["rerun_of"] == ghost.number


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


def _worker_process(postgres_url: str, name: str, work_dir: str, worker_id: str) -> list[int]:
    """One worker process taking two trial jobs of the study (a process, as in a deployment: one
    process trains one trial at a time; torch's model loading is not made for threads)."""
    study = open_study(storage(postgres_url), name, seed=1, space=SPACE)
    enqueue_starts(study, [GOOD], SPACE)  # both enqueue; skip_if_exists keeps one
    return [t.number for t in run_jobs(study, trial_run(Path(work_dir)), 2, worker_id=worker_id)]


def test_two_workers_run_trials_of_one_study_in_postgres_at_once(tmp_path: Path, postgres_url: str) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    name = "genesis-tiny-shared"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {
            f"worker-{i}": pool.submit(
                _worker_process, postgres_url, name, str(tmp_path / f"w{i}"), f"worker-{i}"
            )
            for i in (1, 2)
        }
        ran = {w: f.result(timeout=600) for w, f in futures.items()}
    study = open_study(storage(postgres_url), name, seed=3, space=SPACE)
    finished, _ = spent(study)
    assert finished == 4
    # one study, four distinct trials, two of each worker's
    assert sorted(ran["worker-1"] + ran["worker-2"]) == [0, 1, 2, 3]
    assert sorted(t.user_attrs["worker_id"] for t in study.trials) == ["worker-1"] * 2 + ["worker-2"] * 2
    assert sum(1 for t in study.trials if t.params.get("learning_rate") == GOOD["learning_rate"]) == 1
    # a later trial job (another worker, a retry) continues the same study: numbers go on
    assert run_jobs(study, trial_run(tmp_path / "again"), 1)[0].number == 4


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
