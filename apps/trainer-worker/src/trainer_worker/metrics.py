"""The worker's Prometheus metrics, served on GENESIS_WORKER_METRICS_PORT (0: not served).

Scraped like the services (deploy/prometheus, the pod annotations in deploy/k8s): jobs by kind and
outcome, job durations, busy slots, memory, and the lag of its consumers (num_pending of the
JetStream consumer, polled, under the services' own metric names). Every label set is created at
zero up front: a counter that appears with its first event hides that event from rate() and
increase()."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.process_collector import ProcessCollector

log = logging.getLogger("trainer_worker")

# What became of a delivered job message:
#   completed / failed / failed_retryable: its one result event was published;
#   republished: it already had a result (a redelivery), which was sent again, no second run;
#   retried: it crashed and was given back for another delivery;
#   interrupted: the worker stopped (SIGTERM) and gave it back;
#   invalid: it could not be read (terminated and dead-lettered).
OUTCOMES = ("completed", "failed", "failed_retryable", "republished", "retried", "interrupted", "invalid")

# From a sub-second refusal to a multi-hour LoRA run.
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, float("inf"))


class WorkerMetrics:
    def __init__(self, kinds: Sequence[str], consumers: Sequence[str], slots_total: int):
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.jobs = Counter(
            "genesis_worker_jobs",
            "Job messages handled by this worker, by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "genesis_worker_job_duration_seconds",
            "Time from taking a job to its result (or giving it back), by kind and outcome",
            ["kind", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.slots_total = Gauge(
            "genesis_worker_slots", "Jobs this worker can run at once", registry=self.registry
        )
        self.slots_busy = Gauge(
            "genesis_worker_slots_busy", "Jobs this worker is running now", registry=self.registry
        )
        self.memory = Gauge(
            "genesis_worker_memory_used_fraction",
            "Host RAM in use, 0..1 (the heartbeat's memory is the larger of this and GPU memory)",
            registry=self.registry,
        )
        self.gpu_memory = Gauge(
            "genesis_worker_gpu_memory_used_fraction",
            "GPU memory in use on the fullest device, 0..1 (absent without a GPU)",
            registry=self.registry,
        )
        # The services' names for the same thing (libs/messaging consumer-runner.ts), so the lag
        # recording rule, alert and dashboard panel cover the worker's consumers too.
        self.pending = Gauge(
            "genesis_consumer_pending_messages",
            "Messages not yet delivered (consumer lag)",
            ["consumer"],
            registry=self.registry,
        )
        self.ack_pending = Gauge(
            "genesis_consumer_ack_pending_messages",
            "Messages delivered, not yet acked",
            ["consumer"],
            registry=self.registry,
        )
        for kind in kinds:
            for outcome in OUTCOMES:
                self.jobs.labels(kind, outcome)
                self.duration.labels(kind, outcome)
        for consumer in consumers:
            self.pending.labels(consumer)
            self.ack_pending.labels(consumer)
        self.slots_total.set(slots_total)
        self._server: Any = None

    def job_done(self, kind: str, outcome: str, seconds: float) -> None:
        self.jobs.labels(kind, outcome).inc()
        self.duration.labels(kind, outcome).observe(seconds)

    def memory_used(self, host: float, gpu: float | None) -> None:
        self.memory.set(host)
        if gpu is not None:
            self.gpu_memory.set(gpu)

    def consumer_lag(self, consumer: str, num_pending: int, num_ack_pending: int) -> None:
        self.pending.labels(consumer).set(num_pending)
        self.ack_pending.labels(consumer).set(num_ack_pending)

    def serve(self, host: str, port: int) -> None:
        """Starts the /metrics endpoint (a daemon thread); port 0 serves nothing."""
        if port == 0:
            return
        self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics served", extra={"metrics": f"http://{host}:{port}/metrics"})

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
