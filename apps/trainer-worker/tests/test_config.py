from __future__ import annotations

from pathlib import Path

import pytest

from trainer_worker.config import ConfigError, EvalConfig, LoraConfig, TrainConfig, WorkerConfig, load_config


def test_defaults_follow_the_recipe() -> None:
    cfg = load_config({})
    assert cfg.nats_url == "nats://127.0.0.1:4222"
    assert cfg.train.base_model == "tiny"
    assert (cfg.train.lora.r, cfg.train.lora.alpha, cfg.train.lora.dropout) == (16, 32.0, 0.0)
    assert cfg.train.lora.target_modules == (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    )
    assert (cfg.train_consumer, cfg.evaluate_consumer) == (
        "trainer-worker-jobs-train",
        "trainer-worker-jobs-evaluate",
    )
    assert (cfg.train.learning_rate, cfg.train.max_steps, cfg.train.batch_size) == (5e-3, 200, 16)
    evaluation = cfg.evaluation
    assert (evaluation.max_new_tokens, evaluation.batch_size, evaluation.sandbox_mode) == (None, 16, "auto")
    assert evaluation.max_new_tokens_cap == 1024  # None: derived per suite (budget.py)
    assert (
        evaluation.sandbox.cpu_seconds,
        evaluation.sandbox.memory_mb,
        evaluation.sandbox.wall_seconds,
    ) == (5, 512, 10)
    assert cfg.nats_user is None and cfg.nats_password is None  # no auth unless a password is set


def test_nats_credentials_come_from_a_file_and_default_to_the_workers_own_user(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")  # as `kubectl create secret --from-file` or an editor leaves it
    cfg = load_config({"NATS_PASSWORD_FILE": str(secret)})
    assert (cfg.nats_user, cfg.nats_password) == ("trainer-worker", "s3cret")
    assert "s3cret" not in repr(cfg)
    cfg = load_config({"NATS_USER": "gpu-pool-a", "NATS_PASSWORD_FILE": str(secret)})
    assert cfg.nats_user == "gpu-pool-a"


def test_a_password_in_the_environment_is_refused(tmp_path: Path) -> None:
    """The worker runs generated code: its secrets never sit in its environment."""
    with pytest.raises(ConfigError, match="NATS_PASSWORD must not be in the worker's environment"):
        load_config({"NATS_PASSWORD": "s3cret"})
    secret = tmp_path / "password"
    secret.write_text("s3cret")
    with pytest.raises(ConfigError, match="NATS_USER must be"):
        load_config({"NATS_USER": "a.b", "NATS_PASSWORD_FILE": str(secret)})


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("", "one line"), ("\n", "one line"), ("a\nb\n", "one line"), (b"\xff", "UTF-8")],
    ids=["missing", "empty", "blank", "two-lines", "binary"],
)
def test_a_bad_secret_file_is_a_config_error(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "password"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=f"NATS_PASSWORD_FILE: .*{message}"):
        load_config({"NATS_PASSWORD_FILE": str(path)})


def test_environment_overrides() -> None:
    cfg = load_config(
        {
            "NATS_URL": "nats://nats:4222",
            "GENESIS_BASE_MODEL": "Qwen/Qwen2.5-Coder-1.5B-Instruct",
            "GENESIS_LORA_R": "8",
            "GENESIS_LORA_TARGET_MODULES": "q_proj, v_proj",
            "GENESIS_DEVICE": "cuda:1",
            "GENESIS_BF16": "false",
            "GENESIS_WORK_DIR": "/tmp/w",
            "GENESIS_EVALUATE_CONSUMER": "eval-gpu",
            "GENESIS_EVAL_MAX_NEW_TOKENS": "128",
            "GENESIS_SANDBOX_CPU_SECONDS": "3",
            "GENESIS_SANDBOX_MODE": "external",
            "GENESIS_SANDBOX_PYTHON": "/usr/bin/python3",
        }
    )
    assert cfg.nats_url == "nats://nats:4222"
    assert cfg.train.base_model == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    assert cfg.train.lora.r == 8 and cfg.train.lora.target_modules == ("q_proj", "v_proj")
    assert cfg.train.device == "cuda:1" and cfg.train.bf16 is False
    assert cfg.work_dir == Path("/tmp/w")
    assert cfg.evaluate_consumer == "eval-gpu" and cfg.evaluation.max_new_tokens == 128
    assert cfg.evaluation.sandbox.cpu_seconds == 3 and cfg.evaluation.sandbox_mode == "external"
    assert cfg.evaluation.sandbox_python == "/usr/bin/python3"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"NATS_URL": "localhost:4222"}, "NATS_URL"),
        ({"GENESIS_LORA_R": "0"}, "lora r"),
        ({"GENESIS_LORA_R": "sixteen"}, "GENESIS_LORA_R"),
        ({"GENESIS_LORA_DROPOUT": "1.5"}, "dropout"),
        ({"GENESIS_LEARNING_RATE": "-1"}, "learning rate"),
        ({"GENESIS_TRAIN_MAX_STEPS": "0"}, "max_steps"),
        ({"GENESIS_MAX_LENGTH": "4"}, "max_length"),
        ({"GENESIS_DEVICE": "tpu"}, "GENESIS_DEVICE"),
        ({"GENESIS_BF16": "maybe"}, "GENESIS_BF16"),
        ({"GENESIS_BASE_MODEL": " "}, "GENESIS_BASE_MODEL"),
        ({"GENESIS_ARTIFACTS_BUCKET": "no spaces"}, "GENESIS_ARTIFACTS_BUCKET"),
        ({"GENESIS_EVALUATE_CONSUMER": "a b"}, "GENESIS_EVALUATE_CONSUMER"),
        ({"GENESIS_EVAL_MAX_NEW_TOKENS": "-1"}, "GENESIS_EVAL_MAX_NEW_TOKENS"),
        ({"GENESIS_SANDBOX_MEMORY_MB": "8"}, "GENESIS_SANDBOX"),
        ({"GENESIS_SANDBOX_MODE": "prelude"}, "GENESIS_SANDBOX_MODE"),
        ({"GENESIS_SANDBOX_PYTHON": "python3"}, "GENESIS_SANDBOX_PYTHON"),
        ({"GENESIS_SANDBOX_NETWORK": "namespace"}, "GENESIS_SANDBOX_NETWORK is gone"),
        ({"NATS_USER": "trainer-worker"}, "NATS_PASSWORD_FILE"),
        ({"GENESIS_WORKER_ID": "two words"}, "GENESIS_WORKER_ID"),
        ({"GENESIS_WORKER_HEARTBEAT_S": "0"}, "GENESIS_WORKER_HEARTBEAT_S"),
        ({"GENESIS_WORKER_HEARTBEAT_S": "often"}, "GENESIS_WORKER_HEARTBEAT_S"),
        ({"GENESIS_WORKER_METRICS_PORT": "70000"}, "GENESIS_WORKER_METRICS_PORT"),
    ],
)
def test_invalid_settings_name_the_setting(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_config(env)


def test_dataclasses_validate_on_construction() -> None:
    with pytest.raises(ConfigError):
        LoraConfig(target_modules=())
    with pytest.raises(ConfigError):
        TrainConfig(seed=-1)
    with pytest.raises(ConfigError):
        WorkerConfig(train_consumer="bad name")


def test_job_overrides_keep_unset_defaults() -> None:
    cfg = TrainConfig().with_overrides({"lora_r": 4, "learning_rate": 0.001, "max_steps": 7})
    assert cfg.lora.r == 4 and cfg.lora.alpha == 32.0
    assert cfg.learning_rate == 0.001 and cfg.max_steps == 7 and cfg.batch_size == 16
    with pytest.raises(ConfigError):
        TrainConfig().with_overrides({"lora_dropout": 2.0})


def test_a_job_overrides_the_evaluation_defaults() -> None:
    cfg = EvalConfig().for_job({"generation": {"max_new_tokens": 8}, "sandbox": {"memory_mb": 64}, "seed": 3})
    assert (cfg.max_new_tokens, cfg.seed, cfg.sandbox.memory_mb, cfg.sandbox.cpu_seconds) == (8, 3, 64, 5)
    assert EvalConfig().for_job({}) == EvalConfig()


def test_the_heartbeat_identity_defaults_to_host_and_pid() -> None:
    import os
    import socket

    cfg = load_config({})
    assert cfg.worker_id == f"{socket.gethostname()}:{os.getpid()}"
    assert cfg.heartbeat_s == 5.0 and cfg.metrics_port == 0
    named = load_config(
        {"GENESIS_WORKER_ID": "trainer-worker-7d9f-abcde", "GENESIS_WORKER_METRICS_PORT": "9108"}
    )
    assert named.worker_id == "trainer-worker-7d9f-abcde" and named.metrics_port == 9108


def test_the_study_storage_url_comes_from_a_file_and_is_never_echoed(tmp_path: Path) -> None:
    """It holds a database password (ADR 0025): a file, kept out of repr and out of error messages."""
    secret = tmp_path / "study-storage"
    secret.write_text("postgresql+psycopg2://worker:pa55word@db:5432/genesis\n")
    cfg = load_config({"GENESIS_STUDY_STORAGE_FILE": str(secret)})
    assert cfg.study_storage == "postgresql+psycopg2://worker:pa55word@db:5432/genesis"
    assert "pa55word" not in repr(cfg)
    assert load_config({}).study_storage is None  # a SQLite file of the worker's own
    secret.write_text("mysql://worker:pa55word@db/genesis")
    with pytest.raises(ConfigError, match="GENESIS_STUDY_STORAGE_FILE") as err:
        load_config({"GENESIS_STUDY_STORAGE_FILE": str(secret)})
    assert "pa55word" not in str(err.value)
