"""Base models: `tiny` (built locally from a seed, no download) or any Hugging Face id / local path.

`tiny` is written once with save_pretrained into a cache folder and always loaded back with
from_pretrained, so tests and the local demo exercise the same loading path as production.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

TINY = "tiny"
TINY_SEED = 0  # the tiny base must be the same everywhere, or adapters would not fit it
TINY_VERSION = 2  # bump when the recipe below changes (a new cache folder)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TINY_VOCAB_SIZE = 512
# Query/key projections start this much smaller than the other weights. With initializer_range 0.2
# everywhere, the random attention logits saturate (each head fixed on one random position) and LoRA
# could not learn to look a name up in the prompt: trained on 80 corrections of the e2e rule family
# (apps/e2e/fixtures), the adapter memorised them and got 0 of 25 held-out ones right; with 0.1 it
# gets most of them (tests/test_learnability.py).
TINY_QK_SCALE = 0.1


def tiny_config_kwargs(vocab_size: int) -> dict[str, Any]:
    """The recipe of NOTES.md; initializer_range=0.2 (0.02 did not learn a correction), q/k scaled by
    TINY_QK_SCALE after the init."""
    return {
        "vocab_size": vocab_size,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 256,
        "tie_word_embeddings": True,
        "initializer_range": 0.2,
        "bos_token_id": None,
        "eos_token_id": 2,
        "pad_token_id": 0,
    }


def seed_corpus() -> list[str]:
    """A fixed corpus of code-like text for the tiny tokenizer (the same on every machine)."""
    names = [
        "add",
        "sub",
        "mul",
        "div",
        "total",
        "count",
        "items",
        "value",
        "result",
        "index",
        "name",
        "data",
    ]
    ops = ["+", "-", "*", "/", "==", "!=", "<", ">", "<=", ">="]
    lines: list[str] = []
    for i, name in enumerate(names):
        other = names[(i + 5) % len(names)]
        op = ops[i % len(ops)]
        lines += [
            f"def {name}(a, b):\n    return a {op} b\n",
            f"function {name}({other}) {{\n  return {other} {op} 1;\n}}\n",
            f"for {other} in range(len({name})):\n    print({name}[{other}])\n",
            f"const {name} = {other}.map((x) => x {op} 2);\n",
            f"if {name} is None:\n    raise ValueError('{name} is required')\n",
            f"class {name.title()}:\n    def __init__(self, {other}):\n        self.{other} = {other}\n",
            f"# Fix: use {op} instead of the wrong operator in {name}\n",
            f"import {name}\nfrom {other} import {name}\n",
        ]
    lines += [
        "You are a coding assistant. Apply the correction.\n",
        "The model wrote this code; return the corrected version.\n",
        "SELECT * FROM users WHERE id = 1;\n",
        "try:\n    pass\nexcept Exception as err:\n    log.error(err)\n",
    ]
    return lines


def build_tiny_tokenizer() -> Any:
    """Byte-level BPE (vocab 512) trained on the seed corpus, plus the ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TINY_VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(seed_corpus(), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )


def build_tiny(directory: Path, seed: int = TINY_SEED) -> None:
    """Builds the tiny Qwen2 model and tokenizer from `seed` and saves both into `directory`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    quiet_progress_bars()
    tokenizer = build_tiny_tokenizer()
    kwargs = tiny_config_kwargs(len(tokenizer))
    kwargs["eos_token_id"] = tokenizer.convert_tokens_to_ids("<|im_end|>")
    kwargs["pad_token_id"] = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if ".q_proj." in name or ".k_proj." in name:
                param.mul_(TINY_QK_SCALE)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)


def cache_root() -> Path:
    configured = os.environ.get("GENESIS_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genesis" / "models"


def ensure_tiny(cache_dir: Path | None = None, seed: int = TINY_SEED) -> Path:
    """The folder of the tiny model, built once per (recipe version, seed); safe across processes."""
    target = (cache_dir or cache_root()) / f"tiny-v{TINY_VERSION}-seed{seed}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-", dir=target.parent))
    try:
        build_tiny(staging, seed)
        try:
            staging.rename(target)  # atomic; a concurrent builder may have won the race
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_base_model(name: str, cache_dir: Path | None = None) -> str:
    """`tiny` → its local folder (built if needed); anything else is passed to from_pretrained."""
    return str(ensure_tiny(cache_dir)) if name == TINY else name


def quiet_progress_bars() -> None:
    """No tqdm bars for loading/saving shards in worker logs and test output."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def load_base_model(name: str, *, dtype: Any = None, cache_dir: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) through from_pretrained, for `tiny` as for a hub id or a local path."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_progress_bars()

    path = resolve_base_model(name, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
    return model, tokenizer


def fingerprint(path: Path) -> str:
    """sha256 over a saved model folder's files (names and bytes): proves a build is reproducible."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(json.dumps(str(file.relative_to(path))).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
