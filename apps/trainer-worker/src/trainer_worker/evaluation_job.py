"""jobs.evaluate → per-item results (JSONL) in the object store, then evaluation.completed.

The suite and the adapter are verified against the job's sha256 before anything runs (a mismatch
can never succeed: non-retryable). The results object is uploaded before the worker writes the
result marker, and skipped when a marker already exists (a racing run finished first: its event,
and the object it points to, win).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from . import subjects
from .anchor import anchor_items
from .config import EvalConfig
from .contracts import follow_up, load_artifact_schema, result_event_id
from .errors import JobFailure
from .evaluate import EvalProgress, aggregate_metrics, evaluate_items, load_model, parse_suite
from .jobs import JobHandler, base_model_unavailable, check_deadline, check_local_base_model
from .sandbox import SandboxUnavailable, containment
from .train import ADAPTER_FILE, CONFIG_FILE, package_versions, resolve_runtime

log = logging.getLogger("trainer_worker")


class EvaluationJob(JobHandler):
    kind = "evaluation"
    subject = subjects.JOBS_EVALUATE
    failed_type = subjects.EVALUATION_FAILED
    crash_phase = "evaluate"

    @property
    def consumer(self) -> str:
        return self.ctx.config.evaluate_consumer

    def failure_fields(self, job: dict[str, Any]) -> dict[str, Any]:
        return {k: job[k] for k in ("evaluation_id", "role") if k in job}

    async def run(self, envelope: dict[str, Any], delivery: int) -> dict[str, Any]:
        started = time.monotonic()
        data = envelope["data"]
        job_id, model, suite = data["job_id"], data["model"], data["suite"]
        check_deadline(data)
        check_local_base_model(model["base_model"], phase="load")
        raw = await self.ctx.download(suite["bucket"], suite["key"], missing_code="SUITE_NOT_FOUND")
        items = parse_suite(raw, suite["sha256"], suite["items"])
        if data.get("anchor"):  # the anchor suite, from the pinned package (anchor.py)
            items = items + anchor_items(data["anchor"])
        adapter_dir = await self._fetch_adapter(job_id, model["adapter"]) if model["adapter"] else None
        cfg = self.ctx.config.evaluation.for_job(data)
        try:
            results, device = await asyncio.to_thread(
                self._evaluate, job_id, model["base_model"], adapter_dir, items, cfg
            )
        except OSError as err:
            failure = base_model_unavailable(model["base_model"], err, phase="load")
            if failure is None:
                raise
            raise failure from err

        schema = load_artifact_schema("eval-result.v1.schema.json")
        for result in results:  # our own output obeys the shared contract, or it is a bug
            schema.validate(result)
        payload = results_jsonl(results)
        output = data.get("output") or {}
        bucket = output.get("bucket") or suite["bucket"]
        key = output.get("key") or f"eval-results/{job_id}.jsonl"
        if not await self.ctx.has_result(job_id):
            await (await self.ctx.bucket(bucket)).put(key, payload)

        completed = {
            "job_id": job_id,
            "evaluation_id": data["evaluation_id"],
            "role": data["role"],
            "model_version": model["version"],
            "base_model": model["base_model"],
            "suite_sha256": suite["sha256"],
            "metrics": aggregate_metrics(items, results),
            "results": {
                "bucket": bucket,
                "key": key,
                "sha256": hashlib.sha256(payload).hexdigest(),
                "items": len(results),
            },
            "duration_seconds": round(time.monotonic() - started, 3),
            "device": device,
            "package_versions": package_versions(),
        }
        return follow_up(
            envelope,
            subjects.EVALUATION_COMPLETED,
            completed,
            source=self.ctx.config.source,
            event_id=result_event_id(job_id),
        )

    async def _fetch_adapter(self, job_id: str, adapter: dict[str, Any]) -> Path:
        """The adapter's two files in the job's folder, its weights checked against the job's sha256."""
        weights = await self.ctx.download(adapter["bucket"], adapter["key"], missing_code="ADAPTER_NOT_FOUND")
        actual = hashlib.sha256(weights).hexdigest()
        if actual != adapter["sha256"]:
            raise JobFailure(
                "ADAPTER_HASH_MISMATCH",
                f"{adapter['bucket']}/{adapter['key']} has sha256 {actual}, the job says {adapter['sha256']}",
                retryable=False,
                phase="validate",
            )
        config = await self.ctx.download(
            adapter["bucket"], adapter["config_key"], missing_code="ADAPTER_NOT_FOUND"
        )
        folder = self.ctx.job_dir(job_id) / "adapter"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ADAPTER_FILE).write_bytes(weights)
        (folder / CONFIG_FILE).write_bytes(config)
        return folder

    def _evaluate(
        self,
        job_id: str,
        base_model: str,
        adapter_dir: Path | None,
        items: list[dict[str, Any]],
        cfg: EvalConfig,
    ) -> tuple[list[dict[str, Any]], str]:
        """Runs in a thread (the event loop keeps heartbeating): load, then evaluate every item."""
        if any(item.get("tests") for item in items):
            _check_sandbox(cfg.sandbox_mode, cfg.sandbox_python)
        runtime = resolve_runtime(dataclasses.replace(self.ctx.config.train, base_model=base_model))
        model, tokenizer = load_model(
            base_model, adapter_dir, runtime, cpu_threads=self.ctx.config.train.cpu_threads
        )
        every = self.ctx.config.train.progress_every_s
        last = [0.0]

        def on_progress(p: EvalProgress) -> None:
            if p.done == p.total or p.elapsed_seconds - last[0] >= every:
                last[0] = p.elapsed_seconds
                log.info(
                    "evaluation progress",
                    extra={
                        "job_id": job_id,
                        "items_done": p.done,
                        "items_total": p.total,
                        "elapsed_s": round(p.elapsed_seconds, 2),
                    },
                )

        results = evaluate_items(
            model, tokenizer, items, cfg, on_progress=on_progress, should_stop=self.ctx.stop_work.is_set
        )
        return results, str(runtime.device)


def _check_sandbox(mode: str, python: str | None = None) -> None:
    """Before a suite with tests is evaluated: this worker must be able to contain them (probed
    once per process; sandbox.containment logs the mode it chose). A worker that cannot refuses
    the job (retryable: another worker may have bubblewrap) rather than run the code uncontained."""
    try:
        containment(mode, python)  # type: ignore[arg-type]
    except SandboxUnavailable as err:
        raise JobFailure("SANDBOX_UNAVAILABLE", str(err), retryable=True, phase="evaluate") from err


def results_jsonl(results: list[dict[str, Any]]) -> bytes:
    """The per-item results artifact: one JSON object a line, as generated. A model's output may
    hold any code point, NUL included, and a str may even hold an unpaired surrogate, which UTF-8
    cannot encode: that line is written with JSON's \\u escapes instead, which keep it exactly.
    The worker does not clean anything here; the evaluator stores what Postgres refuses in the
    storable-text escaped form (ADR 0014)."""
    lines = []
    for r in results:
        line = json.dumps(r, ensure_ascii=False, separators=(",", ":"))
        try:
            lines.append(line.encode("utf-8") + b"\n")
        except UnicodeEncodeError:
            lines.append(json.dumps(r, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n")
    return b"".join(lines)
