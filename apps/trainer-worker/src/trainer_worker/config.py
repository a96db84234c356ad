"""Worker configuration: validated dataclasses, read once from the environment at boot.

A bad setting raises ConfigError with one line naming the variable; __main__ prints it and exits 2.
Secrets come from files (NATS_PASSWORD_FILE), never from the environment: the environment is the
first thing a process leaks (to its children, to /proc/<pid>/environ, to crash reports), and this
worker runs generated code (docs/adr/0011-sandbox.md).
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import subjects
from .sandbox import MODES, Mode, SandboxLimits

DEFAULT_TARGET_MODULES: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
_BUCKET = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CONSUMER = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_WORKER_ID = re.compile(r"^[a-zA-Z0-9.:_-]{1,128}$")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class LoraConfig:
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.0
    target_modules: tuple[str, ...] = DEFAULT_TARGET_MODULES

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or not 1 <= self.r <= 1024:
            raise ConfigError(f"lora r must be an integer in 1..1024 (got {self.r!r})")
        if not self.alpha > 0:
            raise ConfigError(f"lora alpha must be > 0 (got {self.alpha!r})")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora dropout must be in [0, 1) (got {self.dropout!r})")
        if not self.target_modules or not all(isinstance(m, str) and m for m in self.target_modules):
            raise ConfigError("lora target_modules must be a non-empty list of module names")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run. Jobs may override some of them (jobs.train `hyperparameters`)."""

    base_model: str = "tiny"
    lora: LoraConfig = field(default_factory=LoraConfig)
    learning_rate: float = 5e-3
    max_steps: int = 200
    epochs: float | None = None  # when set, steps = ceil(epochs * batches per epoch), capped by max_steps
    batch_size: int = 16
    max_length: int = 256
    seed: int = 1234
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    bf16: bool | None = None  # None: bf16 on a GPU that supports it, fp32 on CPU
    gradient_checkpointing: bool | None = None  # None: on for GPU runs of real (non-tiny) models
    packing: bool | None = None  # None: on for GPU runs (short examples packed into one row)
    cpu_threads: int | None = None  # None: 1 for the tiny model (threads only contend), else torch's default
    checkpoint_every: int = 10  # steps between resumable checkpoints (0: never)
    progress_every_s: float = 2.0  # seconds between training.progress heartbeats

    def __post_init__(self) -> None:
        if not isinstance(self.base_model, str) or not self.base_model.strip():
            raise ConfigError("GENESIS_BASE_MODEL must be 'tiny', a Hugging Face id or a local path")
        if not 0 < self.learning_rate <= 1:
            raise ConfigError(f"learning rate must be in (0, 1] (got {self.learning_rate!r})")
        if not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ConfigError(f"max_steps must be an integer >= 1 (got {self.max_steps!r})")
        if self.epochs is not None and not self.epochs > 0:
            raise ConfigError(f"epochs must be > 0 when set (got {self.epochs!r})")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"batch_size must be an integer >= 1 (got {self.batch_size!r})")
        if not isinstance(self.max_length, int) or self.max_length < 8:
            raise ConfigError(f"max_length must be an integer >= 8 (got {self.max_length!r})")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be an integer in [0, 2^32) (got {self.seed!r})")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device):
            raise ConfigError(f"GENESIS_DEVICE must be auto, cpu, cuda or cuda:N (got {self.device!r})")
        if self.cpu_threads is not None and self.cpu_threads < 1:
            raise ConfigError(f"GENESIS_CPU_THREADS must be >= 1 (got {self.cpu_threads!r})")
        if self.checkpoint_every < 0:
            raise ConfigError("checkpoint_every must be >= 0")
        if not self.progress_every_s > 0:
            raise ConfigError("progress_every_s must be > 0")

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> TrainConfig:
        """This config with a job's `hyperparameters` applied (already schema-validated)."""
        if not overrides:
            return self
        lora_keys = {"lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout"}
        lora_changes = {lora_keys[k]: v for k, v in overrides.items() if k in lora_keys}
        if "target_modules" in overrides:
            lora_changes["target_modules"] = tuple(overrides["target_modules"])
        top = {
            k: v
            for k, v in overrides.items()
            if k in {"learning_rate", "max_steps", "epochs", "batch_size", "max_length"}
        }
        return dataclasses.replace(self, lora=dataclasses.replace(self.lora, **lora_changes), **top)

    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters as reported in training.completed."""
        return {
            "lora_r": self.lora.r,
            "lora_alpha": self.lora.alpha,
            "lora_dropout": self.lora.dropout,
            "target_modules": list(self.lora.target_modules),
            "learning_rate": self.learning_rate,
            "max_steps": self.max_steps,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
        }


_NATS_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_NATS_USER = "trainer-worker"  # its user in deploy/nats/auth.conf


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation defaults; a jobs.evaluate's `generation`, `sandbox` and `seed` override them."""

    # None: derived per split from the references' token lengths, at most max_new_tokens_cap
    # (budget.py, ADR 0016); a number fixes the budget for every item.
    max_new_tokens: int | None = None
    max_new_tokens_cap: int = 1024
    batch_size: int = 16
    max_length: int = 256  # prompt tokens kept (cut from the left), as in training
    seed: int = 1234
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    sandbox_mode: Mode = "auto"
    sandbox_python: str | None = None  # the interpreter the sandbox runs; None: chosen by the probe

    def __post_init__(self) -> None:
        if self.max_new_tokens is not None and not (
            isinstance(self.max_new_tokens, int) and 1 <= self.max_new_tokens <= 4096
        ):
            raise ConfigError(
                "GENESIS_EVAL_MAX_NEW_TOKENS must be an integer in 1..4096, or 0 for a budget derived "
                f"per suite (got {self.max_new_tokens!r})"
            )
        if not (isinstance(self.max_new_tokens_cap, int) and 1 <= self.max_new_tokens_cap <= 4096):
            raise ConfigError(
                "GENESIS_EVAL_MAX_NEW_TOKENS_CAP must be an integer in 1..4096 "
                f"(got {self.max_new_tokens_cap!r})"
            )
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ConfigError(f"GENESIS_EVAL_BATCH_SIZE must be an integer >= 1 (got {self.batch_size!r})")
        if self.sandbox_mode not in MODES:
            raise ConfigError(
                f"GENESIS_SANDBOX_MODE must be auto, bwrap or external (got {self.sandbox_mode!r})"
            )
        if self.sandbox_python is not None and not os.path.isabs(self.sandbox_python):
            raise ConfigError(
                f"GENESIS_SANDBOX_PYTHON must be an absolute path (got {self.sandbox_python!r})"
            )

    def for_job(self, job: dict[str, Any]) -> EvalConfig:
        """These settings with a jobs.evaluate's `generation`, `sandbox` and `seed` applied."""
        generation = job.get("generation") or {}
        return replace(
            self,
            max_new_tokens=generation.get("max_new_tokens", self.max_new_tokens),
            max_new_tokens_cap=generation.get("max_new_tokens_cap", self.max_new_tokens_cap),
            seed=job.get("seed", self.seed),
            sandbox=replace(self.sandbox, **(job.get("sandbox") or {})),
        )


@dataclass(frozen=True)
class WorkerConfig:
    nats_url: str = "nats://127.0.0.1:4222"
    # NATS_USER / the password in NATS_PASSWORD_FILE (deploy/nats/auth.conf); None: no auth.
    nats_user: str | None = None
    nats_password: str | None = field(default=None, repr=False)
    jobs_stream: str = subjects.STREAM_JOBS
    events_stream: str = subjects.STREAM_EVENTS
    train_consumer: str = "trainer-worker-jobs-train"
    evaluate_consumer: str = "trainer-worker-jobs-evaluate"
    architecture_consumer: str = "trainer-worker-jobs-architecture"
    # Optuna's study storage (ADR 0025): an SQLAlchemy URL read from GENESIS_STUDY_STORAGE_FILE
    # (it holds a database password: a file, never the environment, never logged). None: a SQLite
    # file in work_dir, which only this worker sees (no parallel trials across workers).
    study_storage: str | None = field(default=None, repr=False)
    artifacts_bucket: str = "genesis-artifacts"
    work_dir: Path = Path(".genesis/trainer-worker")
    source: str = "trainer-worker"
    # workers.heartbeat (ADR 0023): who this worker is and how often it says it is alive.
    worker_id: str = "trainer-worker"
    heartbeat_s: float = 5.0
    # Prometheus metrics on this port (0: none); GENESIS_BIND_HOST like the services.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"(nats|tls|ws|wss)://\S+", self.nats_url):
            raise ConfigError(f"NATS_URL must look like nats://host:port (got {self.nats_url!r})")
        if (self.nats_user is None) != (self.nats_password is None):
            raise ConfigError(
                "NATS_USER and NATS_PASSWORD_FILE go together (NATS_USER defaults to trainer-worker)"
            )
        if self.nats_user is not None and not _NATS_USER.fullmatch(self.nats_user):
            raise ConfigError(f"NATS_USER must be letters, digits, - or _ (got {self.nats_user!r})")
        for name, value in (
            ("GENESIS_TRAINER_CONSUMER", self.train_consumer),
            ("GENESIS_EVALUATE_CONSUMER", self.evaluate_consumer),
            ("GENESIS_ARCHITECTURE_CONSUMER", self.architecture_consumer),
        ):
            if not _CONSUMER.fullmatch(value):
                raise ConfigError(f"{name} is not a valid consumer name ({value!r})")
        if not _BUCKET.fullmatch(self.artifacts_bucket):
            raise ConfigError(
                f"GENESIS_ARTIFACTS_BUCKET is not a valid bucket name ({self.artifacts_bucket!r})"
            )
        if not _WORKER_ID.fullmatch(self.worker_id):
            raise ConfigError(
                f"GENESIS_WORKER_ID must be 1-128 of: letters digits . : _ - (got {self.worker_id!r})"
            )
        if not 0.1 <= self.heartbeat_s <= 3600:
            raise ConfigError(
                f"GENESIS_WORKER_HEARTBEAT_S must be in 0.1..3600 seconds (got {self.heartbeat_s!r})"
            )
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(
                f"GENESIS_WORKER_METRICS_PORT must be a port, 0..65535 (got {self.metrics_port!r})"
            )
        if self.study_storage is not None and not re.fullmatch(
            r"(postgres(ql)?(\+psycopg2)?|sqlite)://\S*", self.study_storage
        ):
            # the value is a secret: name the variable and the expected shape, never echo it
            raise ConfigError(
                "GENESIS_STUDY_STORAGE_FILE must hold an SQLAlchemy URL: postgresql+psycopg2://user:pass@host:port/db"
            )
        object.__setattr__(self, "work_dir", Path(self.work_dir))


def _env_number(env: Mapping[str, str], name: str, kind: type, default: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a{'n integer' if kind is int else ' number'} (got {raw!r})"
        ) from None


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true, false or auto (got {raw!r})")


def _secret_file(env: Mapping[str, str], name: str) -> str | None:
    """The secret in the file that `name` points to (one line; a trailing newline is not part of
    it), None when `name` is unset. An unreadable or empty file is a configuration error."""
    path = env.get(name, "").strip()
    if not path:
        return None
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as err:
        raise ConfigError(f"{name}: cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: {path} is not UTF-8 text") from None
    if not value.strip() or "\n" in value:
        raise ConfigError(f"{name}: {path} must hold the secret on one line (it is empty or has several)")
    return value


def load_config(env: Mapping[str, str] | None = None) -> WorkerConfig:
    """Reads the worker's settings from the environment (defaults suit the local stack and tests)."""
    env = os.environ if env is None else env
    targets = env.get("GENESIS_LORA_TARGET_MODULES")
    lora = LoraConfig(
        r=_env_number(env, "GENESIS_LORA_R", int, 16),
        alpha=_env_number(env, "GENESIS_LORA_ALPHA", float, 32.0),
        dropout=_env_number(env, "GENESIS_LORA_DROPOUT", float, 0.0),
        target_modules=tuple(t.strip() for t in targets.split(",") if t.strip())
        if targets
        else DEFAULT_TARGET_MODULES,
    )
    epochs = _env_number(env, "GENESIS_TRAIN_EPOCHS", float, None)
    train = TrainConfig(
        base_model=env.get("GENESIS_BASE_MODEL", "tiny"),
        lora=lora,
        learning_rate=_env_number(env, "GENESIS_LEARNING_RATE", float, 5e-3),
        max_steps=_env_number(env, "GENESIS_TRAIN_MAX_STEPS", int, 200),
        epochs=epochs,
        batch_size=_env_number(env, "GENESIS_TRAIN_BATCH_SIZE", int, 16),
        max_length=_env_number(env, "GENESIS_MAX_LENGTH", int, 256),
        seed=_env_number(env, "GENESIS_SEED", int, 1234),
        device=env.get("GENESIS_DEVICE", "auto"),
        bf16=_env_bool(env, "GENESIS_BF16"),
        gradient_checkpointing=_env_bool(env, "GENESIS_GRADIENT_CHECKPOINTING"),
        packing=_env_bool(env, "GENESIS_PACKING"),
        cpu_threads=_env_number(env, "GENESIS_CPU_THREADS", int, None),
        checkpoint_every=_env_number(env, "GENESIS_CHECKPOINT_EVERY", int, 10),
        progress_every_s=_env_number(env, "GENESIS_PROGRESS_INTERVAL_S", float, 2.0),
    )
    try:
        sandbox = SandboxLimits(
            cpu_seconds=_env_number(env, "GENESIS_SANDBOX_CPU_SECONDS", int, 5),
            memory_mb=_env_number(env, "GENESIS_SANDBOX_MEMORY_MB", int, 512),
            wall_seconds=_env_number(env, "GENESIS_SANDBOX_WALL_SECONDS", float, 10.0),
        )
    except ValueError as err:  # names the limit, not the variable: say which variables
        raise ConfigError(f"GENESIS_SANDBOX_*: {err}") from None
    evaluation = EvalConfig(
        max_new_tokens=_env_number(env, "GENESIS_EVAL_MAX_NEW_TOKENS", int, 0) or None,
        max_new_tokens_cap=_env_number(env, "GENESIS_EVAL_MAX_NEW_TOKENS_CAP", int, 1024),
        batch_size=_env_number(env, "GENESIS_EVAL_BATCH_SIZE", int, 16),
        max_length=train.max_length,
        seed=train.seed,
        sandbox=sandbox,
        sandbox_mode=env.get("GENESIS_SANDBOX_MODE", "auto").strip() or "auto",
        sandbox_python=env.get("GENESIS_SANDBOX_PYTHON", "").strip() or None,
    )
    if "GENESIS_SANDBOX_NETWORK" in env:
        raise ConfigError(
            "GENESIS_SANDBOX_NETWORK is gone: the sandbox is contained by bubblewrap or refuses "
            "(GENESIS_SANDBOX_MODE=auto|bwrap|external, docs/adr/0011-sandbox.md)"
        )
    if "NATS_PASSWORD" in env:
        raise ConfigError(
            "NATS_PASSWORD must not be in the worker's environment: put it in a file and set "
            "NATS_PASSWORD_FILE (docs/adr/0011-sandbox.md)"
        )
    nats_password = _secret_file(env, "NATS_PASSWORD_FILE")
    nats_user = env.get("NATS_USER", "").strip() or (DEFAULT_NATS_USER if nats_password else None)
    return WorkerConfig(
        nats_url=env.get("NATS_URL", "nats://127.0.0.1:4222"),
        nats_user=nats_user,
        nats_password=nats_password,
        train_consumer=env.get("GENESIS_TRAINER_CONSUMER", "trainer-worker-jobs-train"),
        evaluate_consumer=env.get("GENESIS_EVALUATE_CONSUMER", "trainer-worker-jobs-evaluate"),
        architecture_consumer=env.get("GENESIS_ARCHITECTURE_CONSUMER", "trainer-worker-jobs-architecture"),
        study_storage=_secret_file(env, "GENESIS_STUDY_STORAGE_FILE"),
        artifacts_bucket=env.get("GENESIS_ARTIFACTS_BUCKET", "genesis-artifacts"),
        work_dir=Path(env.get("GENESIS_WORK_DIR", ".genesis/trainer-worker")),
        # The pod name in Kubernetes (its hostname); the pid tells two workers on one host apart.
        worker_id=env.get("GENESIS_WORKER_ID", "").strip() or f"{socket.gethostname()}:{os.getpid()}",
        heartbeat_s=_env_number(env, "GENESIS_WORKER_HEARTBEAT_S", float, 5.0),
        metrics_port=_env_number(env, "GENESIS_WORKER_METRICS_PORT", int, 0),
        metrics_host=env.get("GENESIS_BIND_HOST", "").strip() or "127.0.0.1",
        train=train,
        evaluation=evaluation,
    )
