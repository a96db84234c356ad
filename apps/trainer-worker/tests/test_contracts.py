"""The Python side of the shared contract: the same schema files and golden fixtures as TypeScript."""

from __future__ import annotations

import json
import uuid

import pytest

from topology import ARCHITECTURE_CONSUMER, CONSUMER, EVALUATE_CONSUMER, worker_consumer
from trainer_worker.contracts import ContractError, follow_up, load_contracts, result_event_id, schema_dir

FIXTURES = schema_dir().parent / "fixtures"
VALID = sorted(FIXTURES.glob("*.valid.json"))
INVALID = json.loads((FIXTURES / "invalid.json").read_text())


def test_every_event_schema_loads() -> None:
    contracts = load_contracts()
    for type_ in (
        "jobs.train",
        "training.progress",
        "training.completed",
        "training.failed",
        "jobs.evaluate",
        "evaluation.completed",
        "evaluation.failed",
    ):
        assert contracts.has_schema(type_, 1), type_


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_golden_fixture_is_valid(path) -> None:
    load_contracts().validate(json.loads(path.read_text()))


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_invalid_fixture_is_rejected(case) -> None:
    with pytest.raises(ContractError):
        load_contracts().validate(case["envelope"])


def test_unknown_types_and_bad_dates_are_rejected() -> None:
    job = json.loads((FIXTURES / "jobs.train.valid.json").read_text())
    with pytest.raises(ContractError, match="no schema"):
        load_contracts().validate(job | {"type": "jobs.unknown"})
    with pytest.raises(ContractError, match="date-time"):
        load_contracts().validate(job | {"time": "yesterday"})
    with pytest.raises(ContractError, match="job_id"):
        load_contracts().validate(job | {"data": {k: v for k, v in job["data"].items() if k != "job_id"}})


def test_result_ids_are_derived_from_the_job_and_follow_up_keeps_the_chain() -> None:
    job = json.loads((FIXTURES / "jobs.train.valid.json").read_text())
    job_id = job["data"]["job_id"]
    assert result_event_id(job_id) == result_event_id(job_id)
    assert result_event_id(job_id) != result_event_id(str(uuid.uuid4()))
    failed = follow_up(
        job,
        "training.failed",
        {"job_id": job_id, "reason": {"code": "X_Y", "message": "m"}, "retryable": False},
        source="trainer-worker",
        event_id=result_event_id(job_id),
    )
    load_contracts().validate(failed)
    assert failed["correlation_id"] == job["correlation_id"]
    assert failed["causation_id"] == job["id"] and failed["cycle_id"] == job["cycle_id"]


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("jobsTrain", CONSUMER),
        ("jobsEvaluate", EVALUATE_CONSUMER),
        ("jobsArchitecture", ARCHITECTURE_CONSUMER),
    ],
)
def test_topology_ts_declares_the_worker_consumers(subject: str, name: str) -> None:
    """tests/topology.py provisions like libs/messaging/src/topology.ts; keep them in step."""
    source = (schema_dir().parents[2] / "libs" / "messaging" / "src" / "topology.ts").read_text()
    start = source.index(f"consumer('trainer-worker', SUBJECTS.{subject}")
    block = source[start : source.index("},", source.index("stream:", start))]
    mirror = worker_consumer(name=name)
    assert "STREAMS.jobs" in block
    assert f"ack_wait: nanos({int(mirror.ack_wait * 1000):_})" in block
    assert f"max_deliver: {mirror.max_deliver}," in block
    assert f"max_ack_pending: {mirror.max_ack_pending}," in block
