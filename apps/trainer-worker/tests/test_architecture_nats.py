"""jobs.architecture against a real nats-server: each job is one trial of the study, answered by
study.trial.finished; the study lives on across jobs, and the trial that is the best so far brings
its stored adapter (docs/adr/0025-architecture-search.md)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest

from bus import get_object, make_job, publish, put_object, run_until, wait_for, worker_config
from samples import learnable_records, sha256, snapshot_bytes
from trainer_worker.contracts import load_contracts
from trainer_worker.worker import Worker

pytestmark = pytest.mark.nats

BAD_BASELINE = {"lora_r": 16, "lora_alpha": 32, "learning_rate": 1e-6, "max_steps": 30}
GOOD_WARM_START = {"lora_r": 16, "lora_alpha": 32, "learning_rate": 2e-2, "max_steps": 30}


def architecture_job(
    dataset: dict[str, Any], suite: dict[str, Any], name: str | None = None, **data: Any
) -> dict[str, Any]:
    return make_job(
        "jobs.architecture",
        {
            "base_model": "tiny",
            "dataset": dataset,
            "suite": suite,
            "study": {"name": name or f"test-{uuid.uuid4().hex[:8]}", "validation_fraction": 0.25},
            "budget": {"trials": 3, "worker_seconds": 600},
            "search_space": {"min_steps": 20, "max_steps": 30, "eval_every": 10},
            "baseline": BAD_BASELINE,
            "warm_start": [GOOD_WARM_START],
            "hyperparameters": {"batch_size": 8},
            "seed": 5,
            **data,
        },
    )


def test_each_trial_job_runs_one_trial_of_the_study_and_the_best_so_far_brings_its_adapter(
    nats_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        # the snapshot (wrongly) holds an item of the frozen suite: the study must not validate on it
        leaked = {
            "learning_id": "leaked",
            "language": "python",
            "instruction": "Fix the bug.",
            "context": "def scale(x):\n    return x * 3",
            "correction": "def scale(x):\n    return x * 4",
        }
        records = [*learnable_records(), leaked]
        suite_raw = snapshot_bytes([leaked])
        raw = snapshot_bytes(records)
        dataset = await put_object(js, f"snapshots/test/{sha256(raw)}.jsonl", raw)
        suite = await put_object(js, f"eval-sets/test/{sha256(suite_raw)}.jsonl", suite_raw)
        suite.pop("records", None)
        name = f"test-{uuid.uuid4().hex[:8]}"
        jobs = [architecture_job(dataset, suite, name) for _ in range(3)]
        for job in jobs:
            await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))

        async def all_answered() -> list[dict[str, Any]]:
            return [await wait_for(js, "study.trial.finished", j["data"]["job_id"], 300) for j in jobs]

        answers = await run_until(worker, all_answered())
        contracts = load_contracts()
        for answer in answers:
            contracts.validate(answer)
        trials = sorted((a["data"] for a in answers), key=lambda d: d["trial"]["number"])
        # one trial per job, numbered on in the one study: the bad baseline, then the warm start
        assert [d["trial"]["number"] for d in trials] == [0, 1, 2]
        assert all(d["study"] == name for d in trials)
        assert trials[0]["trial"]["params"]["learning_rate"] == 1e-6  # the baseline ran first, as it is
        assert trials[1]["trial"]["params"]["learning_rate"] == GOOD_WARM_START["learning_rate"]
        last = trials[2]
        assert last["budget"]["spent_trials"] == 3 and last["budget"]["left_trials"] == 0
        assert last["summary"]["validation"]["suite_excluded"] == 1
        assert last["best"]["number"] != 0
        assert last["best"]["value"] < trials[0]["trial"]["intermediate"]["10"]
        # the trial that was the best so far when it finished stored its adapter, trained as proposed
        best = next(d for d in trials if d["trial"]["number"] == last["best"]["number"])
        assert best["trained"]["hyperparameters"]["learning_rate"] == best["trial"]["params"]["learning_rate"]
        adapter = await get_object(js, best["artifact"]["bucket"], best["artifact"]["key"])
        assert hashlib.sha256(adapter).hexdigest() == best["artifact"]["sha256"]
        assert best["artifact"]["key"].startswith(f"studies/{name}/trial-{best['trial']['number']}/")
        adapter_config = json.loads(
            await get_object(js, best["artifact"]["bucket"], best["artifact"]["config_key"])
        )
        assert adapter_config["r"] == best["trained"]["hyperparameters"]["lora_r"]
        assert "optuna" in best["package_versions"]
        assert {d["worker_id"] for d in trials} == {worker.config.worker_id}
        await nc.close()

    asyncio.run(scenario())


def test_a_study_job_with_a_bad_budget_fails_once_without_retry(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        raw = snapshot_bytes(learnable_records())
        dataset = await put_object(js, f"snapshots/test/{sha256(raw)}.jsonl", raw)
        job = architecture_job(dataset, dataset, search_space={"min_steps": 50, "max_steps": 20})
        job["data"].pop("suite")
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job["data"]["job_id"], 60))
        assert failed["data"]["reason"]["code"] == "INVALID_SEARCH_SPACE"
        assert failed["data"]["retryable"] is False
        await nc.close()

    asyncio.run(scenario())
