"""LoRA training throughput: the worker's trainer next to a plain PEFT + transformers loop.

    .venv/bin/python bench/train_throughput.py                    # CUDA: 0.5B-sized model; CPU: tiny
    .venv/bin/python bench/train_throughput.py --model 1.5b --steps 30 --examples 512

The model has the architecture of Qwen2.5-Coder-0.5B/1.5B (constants below, from their config.json)
with random weights, so nothing is downloaded. It is saved once and loaded through from_pretrained,
like a production base. Both loops train LoRA r=16 on all seven projections over the same short
synthetic examples; tokens/s counts real (non-padding) tokens, so packing's gain is visible.

MFU = tokens/s x FLOP/token / peak, with FLOP/token = 4N (forward 2N + activation gradients 2N;
frozen weights need no weight gradients; N = the weights of every matmul, lm_head included) plus
causal attention 6·L·s·d for examples of s tokens. Recomputation by gradient checkpointing is not
counted (model FLOPs, not hardware FLOPs). Peak: bf16 dense, from the device name (or --peak-tflops).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trainer_worker.base_model import ensure_tiny  # noqa: E402
from trainer_worker.config import TrainConfig  # noqa: E402
from trainer_worker.data import build_examples, pad_batch  # noqa: E402
from trainer_worker.train import build_lora_model, train_adapter  # noqa: E402

QWEN25_CODER = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12),
}
COMMON = dict(
    vocab_size=151936,
    num_key_value_heads=2,
    max_position_embeddings=32768,
    rope_theta=1_000_000.0,
    tie_word_embeddings=True,
    rms_norm_eps=1e-6,
)
PEAK_TFLOPS = {"H200": 989, "H100 PCIe": 756, "H100": 989, "A100": 312, "L40S": 362, "L4": 121, "A10": 125}


def peak_flops(override: float | None) -> float | None:
    if override:
        return override * 1e12
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, tflops in PEAK_TFLOPS.items():  # most specific names first
        if key in name:
            return tflops * 1e12
    return None


def synthetic_records(n: int, seed: int) -> list[dict[str, str]]:
    """Short code corrections (~40-120 tokens each): the shape of real learnings."""
    rng = random.Random(seed)
    words = ["value", "total", "items", "index", "result", "count", "name", "data", "left", "right"]
    records = []
    for i in range(n):
        body = "\n".join(
            f"    {rng.choice(words)} = {rng.choice(words)} + {rng.randint(0, 99)}"
            for _ in range(rng.randint(2, 8))
        )
        records.append(
            {
                "instruction": "Fix the bug.",
                "context": f"def f{i}(a, b):\n{body}\n    return a - b",
                "correction": f"def f{i}(a, b):\n{body}\n    return a + b",
            }
        )
    return records


def build_base(size: str, directory: Path) -> None:
    """A random-weight model of the given size, saved like a hub checkpoint (+ the tiny tokenizer)."""
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tiny = ensure_tiny()
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    if size == "tiny":
        shutil.copytree(tiny, directory, dirs_exist_ok=True)
        return
    config = Qwen2Config(
        **QWEN25_CODER[size],
        **COMMON,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    del model


def matmul_params(model: torch.nn.Module) -> int:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    n = sum(m.weight.numel() for m in base.modules() if isinstance(m, torch.nn.Linear))
    return n


def flops_per_token(n_matmul: int, layers: int, hidden: int, mean_len: float) -> float:
    return 4 * n_matmul + 6 * layers * mean_len * hidden


def plain_loop(base_dir: Path, records, cfg: TrainConfig, steps: int, device: torch.device) -> dict:
    """A plain PEFT + transformers loop: padded batches, bf16 weights on GPU, no packing/checkpointing."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype, attn_implementation="sdpa")
    base.config.use_cache = False
    model = build_lora_model(base, cfg).to(device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.learning_rate)
    examples, _ = build_examples(records, tokenizer, cfg.max_length)
    rng = random.Random(cfg.seed)
    tokens, started = 0, None
    for step in range(steps + 1):  # step 0 is warm-up, not timed
        if step == 1:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        chosen = rng.sample(examples, cfg.batch_size)
        batch = {k: v.to(device) for k, v in pad_batch(chosen, tokenizer.pad_token_id).items()}
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:
            tokens += sum(len(e) for e in chosen)
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    n = matmul_params(model)
    mean_len = sum(len(e) for e in examples) / len(examples)
    result = {"tokens_per_second": tokens / elapsed, "n_matmul": n, "mean_len": mean_len}
    del model, base, optimizer
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["tiny", "0.5b", "1.5b"], default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--peak-tflops", type=float, default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    size = args.model or ("0.5b" if cuda else "tiny")
    steps = args.steps or (30 if cuda else 10)
    device = torch.device("cuda" if cuda else "cpu")
    records = synthetic_records(args.examples or (512 if cuda else 64), seed=0)
    if not cuda:
        torch.set_num_threads(1)  # as the worker does for the tiny model: fair and stable on a busy CPU
    peak = peak_flops(args.peak_tflops)
    with tempfile.TemporaryDirectory(prefix="genesis-bench-") as tmp:
        base_dir = Path(tmp) / f"qwen2.5-coder-{size}-random"
        build_base(size, base_dir)
        layers = json.loads((base_dir / "config.json").read_text())["num_hidden_layers"]
        hidden = json.loads((base_dir / "config.json").read_text())["hidden_size"]
        # Rows of max_length when packed: batch 4 rows on GPU ≈ 4k tokens per step.
        cfg = TrainConfig(
            base_model=str(base_dir),
            max_steps=steps,
            batch_size=args.batch_size or (4 if cuda else 8),
            max_length=args.max_length if cuda else 256,
            checkpoint_every=0,
            progress_every_s=1e9,
        )
        plain_cfg = TrainConfig(
            base_model=str(base_dir),
            batch_size=args.batch_size or (16 if cuda else 8),
            max_length=cfg.max_length,
        )
        plain = plain_loop(base_dir, records, plain_cfg, steps, device)
        worker = train_adapter(records, cfg, Path(tmp) / "adapter")
        fpt = flops_per_token(plain["n_matmul"], layers, hidden, plain["mean_len"])
        device_name = torch.cuda.get_device_name() if cuda else "cpu"
        arch = "tiny Qwen2" if size == "tiny" else f"Qwen2.5-Coder-{size.upper()} architecture"
        print(f"model: {arch} (random weights), device: {device_name}")
        print(
            f"examples: {len(records)}, mean length {plain['mean_len']:.0f} tokens;"
            f" FLOP/token {fpt / 1e6:.1f} M"
        )
        rows = [
            ("plain PEFT loop (padded)", plain["tokens_per_second"], plain_cfg.batch_size, "-"),
            (
                "trainer-worker" + (" (packed, bf16)" if worker.hyperparameters["packing"] else ""),
                worker.metrics["tokens_per_second"],
                cfg.batch_size,
                "on" if worker.hyperparameters["gradient_checkpointing"] else "off",
            ),
        ]
        print(f"{'loop':36} {'tokens/s':>12} {'MFU':>8} {'batch':>6} {'ckpt':>5}")
        for name, rate, batch, ckpt in rows:
            mfu = f"{100 * rate * fpt / peak:.1f}%" if peak else "n/a"
            print(f"{name:36} {rate:12.0f} {mfu:>8} {batch:>6} {ckpt:>5}")
        if not peak:
            print("MFU: n/a (no known GPU peak; pass --peak-tflops)")


if __name__ == "__main__":
    main()
