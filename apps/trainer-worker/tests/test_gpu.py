"""GPU path: bf16, gradient checkpointing and packing on CUDA. Skipped without a GPU (CPU CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from samples import learnable_records
from trainer_worker.config import TrainConfig
from trainer_worker.train import resolve_runtime, train_adapter

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_auto_runtime_on_gpu_is_bf16_and_packed() -> None:
    runtime = resolve_runtime(TrainConfig(base_model="Qwen/any"))
    assert runtime.device.type == "cuda" and runtime.bf16 and runtime.packing
    assert runtime.gradient_checkpointing  # a real model on a GPU
    assert not resolve_runtime(TrainConfig()).gradient_checkpointing  # never for the tiny one


def test_bf16_packed_checkpointed_training_learns(tmp_path: Path) -> None:
    cfg = TrainConfig(
        max_steps=40,
        learning_rate=1e-2,
        batch_size=8,
        seed=3,
        gradient_checkpointing=True,
        checkpoint_every=0,
    )
    result = train_adapter(learnable_records(), cfg, tmp_path)
    assert result.device.startswith("cuda")
    assert result.hyperparameters["bf16"] and result.hyperparameters["packing"]
    assert result.hyperparameters["gradient_checkpointing"]
    assert result.metrics["final_loss"] < result.metrics["first_loss"] / 3
