"""Event contracts: the JSON Schemas of libs/contracts (the one source shared with TypeScript).

Every file `schemas/events/<type>.v<version>.schema.json` validates the `data` of that event type,
exactly as libs/contracts/src/validation.ts loads them.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

# uuid v5 namespace of the worker's deterministic event ids (any fixed uuid would do).
EVENT_ID_NAMESPACE = uuid.UUID("9a4c6f1e-2b7d-5e3a-8c1f-0d2e4b6a8c9e")
_SCHEMA_FILE = re.compile(r"^(.+)\.v(\d+)\.schema\.json$")


class ContractError(ValueError):
    """An envelope or its data does not match its schema; `issues` says where."""

    def __init__(self, issues: list[str]):
        super().__init__("; ".join(issues))
        self.issues = issues


def schema_dir() -> Path:
    """libs/contracts/schemas: GENESIS_CONTRACTS_DIR (the container image), else found upwards."""
    configured = os.environ.get("GENESIS_CONTRACTS_DIR")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "libs" / "contracts" / "schemas"
        if (candidate / "envelope.schema.json").is_file():
            return candidate
    raise FileNotFoundError("libs/contracts/schemas not found; set GENESIS_CONTRACTS_DIR")


_format_checker = FormatChecker()


@_format_checker.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats only constrain strings
    # RFC 3339 needs a date, a time and an offset; fromisoformat alone also accepts a bare date.
    if "T" not in value.upper():
        return False
    text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    return datetime.fromisoformat(text).tzinfo is not None


@dataclass(frozen=True)
class Contracts:
    envelope: Draft7Validator
    data: dict[tuple[str, int], Draft7Validator]

    def has_schema(self, type_: str, version: int) -> bool:
        return (type_, version) in self.data

    def validate(self, envelope: Any) -> dict[str, Any]:
        """Validates an envelope and its data; unknown types are an error (as in TypeScript)."""
        issues = [_issue(e) for e in self.envelope.iter_errors(envelope)]
        if issues:
            raise ContractError(issues)
        validator = self.data.get((envelope["type"], envelope["version"]))
        if validator is None:
            raise ContractError([f"/type no schema for {envelope['type']} v{envelope['version']}"])
        issues = [_issue(e, "/data") for e in validator.iter_errors(envelope["data"])]
        if issues:
            raise ContractError(issues)
        return envelope


def _issue(error: Any, prefix: str = "") -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{prefix}/{path} {error.message}"


@cache
def load_contracts(directory: Path | None = None) -> Contracts:
    directory = directory or schema_dir()

    def validator(path: Path) -> Draft7Validator:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(schema)
        return Draft7Validator(schema, format_checker=_format_checker)

    data = {}
    for path in sorted((directory / "events").iterdir()):
        match = _SCHEMA_FILE.match(path.name)
        if match:
            data[(match.group(1), int(match.group(2)))] = validator(path)
    return Contracts(envelope=validator(directory / "envelope.schema.json"), data=data)


def load_message_schema(name: str) -> Draft7Validator:
    """A core NATS message that is not an event envelope (schemas/messages, e.g. workers.heartbeat)."""
    schema = json.loads((schema_dir() / "messages" / name).read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker)


def load_artifact_schema(name: str) -> Draft7Validator:
    schema = json.loads((schema_dir() / "artifacts" / name).read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=_format_checker)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result_event_id(job_id: str) -> str:
    """The id of a job's one result event (completed or failed): the same on every redelivery."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{job_id}/result"))


def follow_up(
    cause: dict[str, Any], type_: str, data: dict[str, Any], *, source: str, event_id: str | None = None
) -> dict[str, Any]:
    """An envelope caused by `cause`: same model, cycle and correlation; causation = cause.id."""
    envelope: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "type": type_,
        "version": 1,
        "time": now_iso(),
        "source": source,
        "model_id": cause["model_id"],
        "correlation_id": cause["correlation_id"],
        "causation_id": cause["id"],
        "data": data,
    }
    if cause.get("cycle_id"):
        envelope["cycle_id"] = cause["cycle_id"]
    return envelope
