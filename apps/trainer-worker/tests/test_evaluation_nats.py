"""jobs.evaluate against a real nats-server: per-item results in the object store, one result per job."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import nats
import pytest

from bus import (
    events,
    get_object,
    make_job,
    publish,
    put_object,
    queue_drained,
    run_until,
    wait_for,
    worker_config,
)
from samples import learnable_records, snapshot_bytes
from topology import ARTIFACTS_BUCKET, EVALUATE_CONSUMER
from trainer_worker.contracts import load_artifact_schema, load_contracts, schema_dir
from trainer_worker.train import ADAPTER_FILE, CONFIG_FILE
from trainer_worker.worker import Worker

pytestmark = pytest.mark.nats

REGRESSION_SUITE = schema_dir().parent / "suites" / "regression.v1.jsonl"
SANDBOX = {"cpu_seconds": 2, "memory_mb": 256, "wall_seconds": 5}


def suite_bytes(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in items).encode()


def evaluate_job(
    suite: dict[str, Any],
    items: int,
    adapter: dict[str, Any] | None,
    role: str,
    evaluation_id: str,
    **data: Any,
) -> dict[str, Any]:
    model = {
        "version": "genesis-20261121-120000" if adapter else None,
        "base_model": "tiny",
        "adapter": adapter,
    }
    return make_job(
        "jobs.evaluate",
        {
            "evaluation_id": evaluation_id,
            "role": role,
            "model": model,
            "suite": {**suite, "items": items},
            "sandbox": SANDBOX,
            **data,
        },
    )


async def put_adapter(js: Any, adapter_dir, prefix: str) -> dict[str, Any]:
    weights = await put_object(js, f"{prefix}/{ADAPTER_FILE}", (adapter_dir / ADAPTER_FILE).read_bytes())
    config = await put_object(js, f"{prefix}/{CONFIG_FILE}", (adapter_dir / CONFIG_FILE).read_bytes())
    return {**weights, "config_key": config["key"]}


def test_base_and_trained_adapter_are_evaluated_once_each_with_per_item_results(
    nats_url: str, tmp_path, rule_family
) -> None:
    """The two jobs of an evaluation (champion: the bare base; candidate: the rule-family adapter) on
    the held-out learnings + the regression suite, with a training job queued between them: one
    worker serves both queues, and each job ends with one evaluation.completed whose per-item
    results are in the object store. A redelivered job gives no second result."""
    items = rule_family.held_out + [json.loads(line) for line in REGRESSION_SUITE.read_text().splitlines()]

    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        raw = suite_bytes(items)
        suite = await put_object(js, f"suites/test/{hashlib.sha256(raw).hexdigest()}.jsonl", raw)
        adapter = await put_adapter(js, rule_family.result.adapter_dir, f"adapters/test/{uuid.uuid4()}")
        evaluation_id = str(uuid.uuid4())
        champion = evaluate_job(suite, len(items), None, "champion", evaluation_id)
        output = {"bucket": ARTIFACTS_BUCKET, "key": f"eval-results/{evaluation_id}/candidate.jsonl"}
        candidate = evaluate_job(suite, len(items), adapter, "candidate", evaluation_id, output=output)
        snapshot = await put_object(js, "snapshots/test/tiny.jsonl", snapshot_bytes(learnable_records()))
        training = make_job(
            "jobs.train", {"base_model": "tiny", "dataset": snapshot, "hyperparameters": {"max_steps": 3}}
        )
        for job in (champion, training, candidate):
            await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        done = asyncio.gather(
            wait_for(js, "evaluation.completed", champion["data"]["job_id"], 180),
            wait_for(js, "evaluation.completed", candidate["data"]["job_id"], 180),
            wait_for(js, "training.completed", training["data"]["job_id"], 180),
        )
        base_result, candidate_result, _ = await run_until(worker, done)

        schema = load_artifact_schema("eval-result.v1.schema.json")
        for job, result in ((champion, base_result), (candidate, candidate_result)):
            load_contracts().validate(result)
            data = result["data"]
            assert result["causation_id"] == job["id"] and result["correlation_id"] == job["correlation_id"]
            assert result["cycle_id"] == job["cycle_id"] and result["source"] == "trainer-worker"
            assert (data["evaluation_id"], data["role"]) == (evaluation_id, job["data"]["role"])
            assert data["model_version"] == job["data"]["model"]["version"]
            assert data["suite_sha256"] == suite["sha256"] and "sacrebleu" in data["package_versions"]
            body = await get_object(js, data["results"]["bucket"], data["results"]["key"])
            assert hashlib.sha256(body).hexdigest() == data["results"]["sha256"]
            lines = [json.loads(line) for line in body.decode().splitlines()]
            for line in lines:
                schema.validate(line)
            assert [r["item_id"] for r in lines] == [i["item_id"] for i in items] and data["results"][
                "items"
            ] == len(items)
            metrics = data["metrics"]
            assert (metrics["items"], metrics["in_domain_items"]) == (len(items), len(rule_family.held_out))
            assert metrics["regression_items"] == metrics["functional_items"] == 20
            in_domain = lines[: len(rule_family.held_out)]
            assert metrics["accuracy"] == pytest.approx(
                sum(r["correct"] for r in in_domain) / len(in_domain), abs=1e-6
            )
        assert base_result["data"]["results"]["key"] == f"eval-results/{champion['data']['job_id']}.jsonl"
        assert candidate_result["data"]["results"]["key"] == output["key"]
        base_metrics, metrics = base_result["data"]["metrics"], candidate_result["data"]["metrics"]
        assert metrics["accuracy"] >= base_metrics["accuracy"] + 0.4
        assert metrics["perplexity"] < base_metrics["perplexity"] and metrics["bleu"] > base_metrics["bleu"]

        # The candidate job delivered again (a new message, same job): no second evaluation, the
        # same event republished (deduplicated), the results object untouched.
        await publish(js, dict(candidate, id=str(uuid.uuid4())))
        await run_until(
            Worker(worker_config(nats_url, tmp_path)),
            asyncio.wait_for(queue_drained(js, EVALUATE_CONSUMER), 60),
        )
        job_id = candidate["data"]["job_id"]
        assert [e["id"] for e in await events(js, "evaluation.completed", job_id)] == [candidate_result["id"]]
        body = await get_object(js, ARTIFACTS_BUCKET, output["key"])
        assert hashlib.sha256(body).hexdigest() == candidate_result["data"]["results"]["sha256"]
        await nc.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("tampered", ["suite", "adapter"])
def test_a_hash_mismatch_fails_once_without_retry(
    nats_url: str, tmp_path, rule_family, tampered: str
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        before = await js.consumer_info("GENESIS_JOBS", EVALUATE_CONSUMER)
        raw = suite_bytes(rule_family.held_out[:2])
        suite = await put_object(js, f"suites/test/{uuid.uuid4()}.jsonl", raw)
        adapter = await put_adapter(js, rule_family.result.adapter_dir, f"adapters/test/{uuid.uuid4()}")
        if tampered == "suite":
            suite["sha256"] = hashlib.sha256(raw + b"\n").hexdigest()
        else:
            adapter["sha256"] = "0" * 64
        job = evaluate_job(suite, 2, adapter, "candidate", str(uuid.uuid4()))
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "evaluation.failed", job["data"]["job_id"], 60))
        load_contracts().validate(failed)
        data = failed["data"]
        assert data["reason"]["code"] == f"{tampered.upper()}_HASH_MISMATCH" and data["retryable"] is False
        assert (data["evaluation_id"], data["role"], data["phase"]) == (
            job["data"]["evaluation_id"],
            "candidate",
            "validate",
        )
        after = await js.consumer_info("GENESIS_JOBS", EVALUATE_CONSUMER)
        assert after.num_ack_pending == 0 and after.num_pending == 0  # acked: never redelivered
        assert after.num_redelivered == before.num_redelivered
        assert await events(js, "evaluation.completed", job["data"]["job_id"]) == []
        await nc.close()

    asyncio.run(scenario())


def test_an_invalid_suite_line_is_named_in_a_non_retryable_failure(nats_url: str, tmp_path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        raw = b'{"item_id": "a", "split": "in_domain", "context": "x", "correction": "y"}\n{"item_id": "b"}\n'
        suite = await put_object(js, f"suites/test/{uuid.uuid4()}.jsonl", raw)
        job = evaluate_job(suite, 2, None, "champion", str(uuid.uuid4()))
        await publish(js, job)
        failed = await run_until(
            Worker(worker_config(nats_url, tmp_path)),
            wait_for(js, "evaluation.failed", job["data"]["job_id"], 60),
        )
        assert failed["data"]["reason"]["code"] == "INVALID_SUITE" and not failed["data"]["retryable"]
        assert failed["data"]["reason"]["message"].startswith("line 2:")
        await nc.close()

    asyncio.run(scenario())
