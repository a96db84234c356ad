"""LoRA fine-tuning: PEFT over a plain PyTorch loop (no Trainer/TRL: explicit, deterministic, resumable).

Deterministic given the seed: the LoRA init, and the order of batches, which is a pure function of
(seed, step). So a run resumed from a checkpoint (adapter + optimizer + RNG state at step k) takes
exactly the steps the uninterrupted run would have taken, and ends with the same adapter bytes on CPU.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .base_model import TINY, load_base_model
from .config import TrainConfig
from .data import Example, build_examples, pack_examples, packed_batch, pad_batch
from .errors import Interrupted

ADAPTER_FILE = "adapter_model.safetensors"
CONFIG_FILE = "adapter_config.json"
_VERSIONED = (
    "torch",
    "transformers",
    "peft",
    "tokenizers",
    "safetensors",
    "accelerate",
    "nats-py",
    "jsonschema",
    "sacrebleu",
)


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    loss: float | None
    tokens_per_second: float
    eta_seconds: float
    elapsed_seconds: float
    resumed_from_step: int


@dataclass(frozen=True)
class TrainResult:
    adapter_dir: Path
    sha256: str
    size_bytes: int
    metrics: dict[str, Any]
    hyperparameters: dict[str, Any]
    device: str
    package_versions: dict[str, str]
    model: Any = field(default=None, repr=False, compare=False)  # with return_model=True
    tokenizer: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Runtime:
    """Where and how a run executes, resolved from the config and the hardware."""

    device: Any  # torch.device
    bf16: bool
    gradient_checkpointing: bool
    packing: bool


def resolve_runtime(cfg: TrainConfig) -> Runtime:
    import torch

    if cfg.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(cfg.device)
    on_gpu = device.type == "cuda"
    bf16 = cfg.bf16 if cfg.bf16 is not None else on_gpu and torch.cuda.is_bf16_supported()
    # Checkpointing trades ~30% more compute for activation memory: worth it for real models on a
    # GPU, never for the tiny one.
    checkpointing = (
        cfg.gradient_checkpointing
        if cfg.gradient_checkpointing is not None
        else on_gpu and cfg.base_model != TINY
    )
    packing = cfg.packing if cfg.packing is not None else on_gpu
    return Runtime(device, bf16, checkpointing, packing)


def set_cpu_threads(runtime: Runtime, base_model: str, cpu_threads: int | None) -> None:
    """On CPU: GENESIS_CPU_THREADS, else 1 for the tiny model. A 100k-parameter model gains nothing
    from more threads, and on a busy machine OpenMP's spinning threads make each step several
    times slower."""
    import torch

    if runtime.device.type == "cpu":
        threads = cpu_threads or (1 if base_model == TINY else None)
        if threads:
            torch.set_num_threads(threads)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    import torch

    if torch.version.cuda:
        versions["cuda"] = str(torch.version.cuda)
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Schedule:
    """Which units (examples, or packed rows) form the batch of a step: a function of (seed, step)."""

    def __init__(self, units: int, batch_size: int, seed: int):
        import torch

        self._torch = torch
        self.units = units
        self.batch_size = min(batch_size, units)
        self.per_epoch = math.ceil(units / self.batch_size)
        self.seed = seed
        self._perm: tuple[int, Any] | None = None

    def indices(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            generator = self._torch.Generator().manual_seed(self.seed * 1000003 + epoch)
            self._perm = (epoch, self._torch.randperm(self.units, generator=generator))
        return self._perm[1][k * self.batch_size : (k + 1) * self.batch_size].tolist()


def total_steps(cfg: TrainConfig, per_epoch: int) -> int:
    if cfg.epochs is None:
        return cfg.max_steps
    return max(1, min(cfg.max_steps, math.ceil(cfg.epochs * per_epoch)))


def build_lora_model(base: Any, cfg: TrainConfig) -> Any:
    import torch
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    peft_config = PeftLoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(cfg.seed)  # LoRA A matrices are drawn here
    model = get_peft_model(base, peft_config)
    # Portable adapter_config.json: the base by its name, not by this machine's cache path.
    model.peft_config["default"].base_model_name_or_path = cfg.base_model
    return model


def train_adapter(
    records: Sequence[dict[str, Any]],
    cfg: TrainConfig,
    out_dir: Path,
    *,
    checkpoint_path: Path | None = None,
    run_key: str = "",
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    model_cache: Path | None = None,
    return_model: bool = False,
    after_step: Callable[[int, Any], None] | None = None,
) -> TrainResult:
    """Trains a LoRA adapter on `records` and saves it into `out_dir`.

    checkpoint_path: resumable state every cfg.checkpoint_every steps; a checkpoint whose run_key
    differs (another job, other data or settings) is ignored.
    after_step(done, model): called after every optimizer step (an architecture trial measures its
    validation loss there, and may stop the run by raising, e.g. optuna.TrialPruned).
    """
    import torch
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    runtime = resolve_runtime(cfg)
    set_cpu_threads(runtime, cfg.base_model, cfg.cpu_threads)
    torch.manual_seed(cfg.seed)
    dtype = torch.bfloat16 if runtime.bf16 else torch.float32
    base, tokenizer = load_base_model(cfg.base_model, dtype=dtype, cache_dir=model_cache)
    base.config.use_cache = False
    if runtime.gradient_checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    examples, skipped = build_examples(records, tokenizer, cfg.max_length)
    units: list[Any] = pack_examples(examples, cfg.max_length) if runtime.packing else list(examples)
    schedule = _Schedule(len(units), cfg.batch_size, cfg.seed)
    steps = total_steps(cfg, schedule.per_epoch)

    model = build_lora_model(base, cfg).to(runtime.device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=0.0)

    start_step, losses, tokens = 0, [], 0
    if checkpoint_path is not None and checkpoint_path.is_file():
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        if state.get("run_key") == run_key:
            set_peft_model_state_dict(model, state["adapter"])
            optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["rng"])
            start_step, losses, tokens = state["step"], list(state["losses"]), state["tokens"]

    def save_checkpoint(step: int) -> None:
        assert checkpoint_path is not None
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint_path.with_suffix(".tmp")
        state = get_peft_model_state_dict(model, save_embedding_layers=False)
        adapter = {k: v.detach().to("cpu").clone() for k, v in state.items()}
        torch.save(
            {
                "run_key": run_key,
                "step": step,
                "adapter": adapter,
                "optimizer": optimizer.state_dict(),
                "rng": torch.get_rng_state(),
                "losses": losses,
                "tokens": tokens,
            },
            tmp,
        )
        os.replace(tmp, checkpoint_path)  # a kill mid-write leaves the previous checkpoint intact

    pad_id = tokenizer.pad_token_id
    started = time.monotonic()
    last_report, reported_losses = started, len(losses)  # a resumed run reports its own steps
    run_tokens = 0
    autocast = torch.autocast(device_type=runtime.device.type, dtype=torch.bfloat16, enabled=runtime.bf16)
    for step in range(start_step, steps):
        if should_stop():
            if checkpoint_path is not None:
                save_checkpoint(step)
            raise Interrupted(f"stopped at step {step}/{steps}")
        chosen = [units[i] for i in schedule.indices(step)]
        if runtime.packing:
            batch = packed_batch(chosen, pad_id)
        else:
            batch = pad_batch(chosen, pad_id)
        batch = {k: v.to(runtime.device) for k, v in batch.items()}
        with autocast:
            # use_cache=False also lets transformers see packed rows (position_ids restarting at 0)
            # and build their block-diagonal mask; with a KV cache it would not.
            loss = model(**batch, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        n_tokens = _token_count(chosen)
        tokens += n_tokens
        run_tokens += n_tokens
        done = step + 1
        if cfg.checkpoint_every and checkpoint_path is not None and done % cfg.checkpoint_every == 0:
            save_checkpoint(done)
        if after_step is not None:
            after_step(done, model)
        now = time.monotonic()
        if on_progress and (now - last_report >= cfg.progress_every_s or done == steps):
            elapsed = now - started
            rate = run_tokens / elapsed if elapsed > 0 else 0.0
            per_step = elapsed / max(1, done - start_step)
            window = losses[reported_losses:] or losses[-1:]
            on_progress(
                Progress(
                    step=done,
                    total_steps=steps,
                    loss=sum(window) / len(window),
                    tokens_per_second=rate,
                    eta_seconds=per_step * (steps - done),
                    elapsed_seconds=elapsed,
                    resumed_from_step=start_step,
                )
            )
            last_report, reported_losses = now, len(losses)
    train_seconds = time.monotonic() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    # save_embedding_layers=False: LoRA never touches the embeddings, and "auto" would look the base
    # up on the hub to check its vocabulary.
    model.save_pretrained(out_dir, safe_serialization=True, save_embedding_layers=False)
    adapter = out_dir / ADAPTER_FILE
    metrics: dict[str, Any] = {
        "first_loss": losses[0],
        "final_loss": losses[-1],
        "mean_loss": sum(losses) / len(losses),
        "steps": steps,
        "examples": len(examples),
        "skipped_examples": skipped,
        # Trained on a prompt cut from the left: worth knowing when judging what the model learned.
        "truncated_examples": sum(1 for e in examples if e.prompt_cut),
        "tokens": tokens,
        "train_seconds": round(train_seconds, 3),
        "tokens_per_second": round(run_tokens / train_seconds, 1) if train_seconds > 0 else 0.0,
    }
    if start_step:
        metrics["resumed_from_step"] = start_step
    hyper = cfg.hyperparameters() | {
        "max_steps": steps,
        "batch_size": schedule.batch_size,
        "packing": runtime.packing,
        "bf16": runtime.bf16,
        "gradient_checkpointing": runtime.gradient_checkpointing,
    }
    return TrainResult(
        adapter_dir=out_dir,
        sha256=sha256_file(adapter),
        size_bytes=adapter.stat().st_size,
        metrics=metrics,
        hyperparameters=hyper,
        device=str(runtime.device),
        package_versions=package_versions(),
        model=model if return_model else None,
        tokenizer=tokenizer if return_model else None,
    )


def _token_count(units: Sequence[Any]) -> int:
    """Tokens in a batch (without padding): examples, or packed rows of examples."""
    total = 0
    for unit in units:
        total += sum(len(e) for e in unit) if isinstance(unit, list) else len(unit)
    return total


def load_trained(
    base_model: str, adapter_dir: Path, *, dtype: Any = None, model_cache: Path | None = None
) -> tuple[Any, Any]:
    """(PeftModel in eval mode, tokenizer): the base through from_pretrained plus a saved adapter."""
    from peft import PeftModel

    base, tokenizer = load_base_model(base_model, dtype=dtype, cache_dir=model_cache)
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    model.eval()
    return model, tokenizer


__all__ = ["Example", "Progress", "TrainResult", "train_adapter", "load_trained"]
