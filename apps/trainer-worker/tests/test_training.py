"""The tiny base model and LoRA training on CPU: deterministic, learns, reloads exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from samples import learnable_records, sha256, snapshot_bytes
from trainer_worker.base_model import build_tiny, ensure_tiny, fingerprint, load_base_model
from trainer_worker.config import TrainConfig
from trainer_worker.data import build_examples, pack_examples, packed_batch, pad_batch, parse_snapshot
from trainer_worker.errors import JobFailure
from trainer_worker.evaluate import generate
from trainer_worker.train import load_trained, train_adapter

CFG = TrainConfig(max_steps=40, learning_rate=1e-2, batch_size=8, seed=7, checkpoint_every=0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """The same training twice with the same seed (each ~1-2 s on CPU)."""
    records = learnable_records()
    out = tmp_path_factory.mktemp("runs")
    first = train_adapter(records, CFG, out / "a", return_model=True)
    second = train_adapter(records, CFG, out / "b")
    return records, first, second


def test_tiny_model_builds_deterministically(tmp_path: Path) -> None:
    build_tiny(tmp_path / "one")
    build_tiny(tmp_path / "two")
    assert fingerprint(tmp_path / "one") == fingerprint(tmp_path / "two")
    build_tiny(tmp_path / "other-seed", seed=1)
    assert fingerprint(tmp_path / "one") != fingerprint(tmp_path / "other-seed")


def test_tiny_model_is_a_small_qwen2_loaded_with_from_pretrained() -> None:
    path = ensure_tiny()
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    assert (config["hidden_size"], config["num_hidden_layers"], config["initializer_range"]) == (64, 2, 0.2)
    assert (path / "model.safetensors").is_file()
    model, tokenizer = load_base_model("tiny")
    assert sum(p.numel() for p in model.parameters()) < 200_000
    attention = model.model.layers[0].self_attn  # q/k start 10x smaller (TINY_QK_SCALE)
    assert attention.q_proj.weight.std() < attention.v_proj.weight.std() / 5
    ids = [tokenizer.convert_tokens_to_ids(s) for s in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")]
    assert len(set(ids)) == 3 and tokenizer("<|im_start|>")["input_ids"] == [ids[1]]
    assert (tokenizer.eos_token, tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    text = "def f(x):\n    return x ** 2  # ünïcode"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: lossless


def test_training_learns_the_correction(runs) -> None:
    records, first, _ = runs
    assert first.metrics["final_loss"] < first.metrics["first_loss"] / 5
    assert first.metrics["steps"] == 40 and first.metrics["examples"] == len(records)
    assert first.metrics["truncated_examples"] == 0  # the learnable records fit max_length
    model, tokenizer = first.model, first.tokenizer
    model.eval()
    assert generate(model, tokenizer, records[:1])[0].strip() == records[0]["correction"]


def test_adapter_files_and_sha_are_stable_across_runs(runs) -> None:
    _, first, second = runs
    assert (first.adapter_dir / "adapter_model.safetensors").is_file()
    config = json.loads((first.adapter_dir / "adapter_config.json").read_text())
    assert config["r"] == 16 and config["lora_alpha"] == 32 and config["base_model_name_or_path"] == "tiny"
    assert sorted(config["target_modules"]) == sorted(CFG.lora.target_modules)
    assert first.sha256 == second.sha256
    assert first.sha256 == sha256((first.adapter_dir / "adapter_model.safetensors").read_bytes())


def test_reloaded_adapter_gives_identical_logits(runs) -> None:
    records, first, _ = runs
    reloaded, tokenizer = load_trained("tiny", first.adapter_dir)
    ids = tokenizer("def add(a, b):\n    return a - b", return_tensors="pt")["input_ids"]
    first.model.eval()
    with torch.no_grad():
        trained_logits = first.model(input_ids=ids).logits
        reloaded_logits = reloaded(input_ids=ids).logits
        assert torch.equal(trained_logits, reloaded_logits)
        merged = reloaded.merge_and_unload()
        assert torch.allclose(merged(input_ids=ids).logits, trained_logits, atol=1e-5)


def test_another_seed_gives_another_adapter(runs, tmp_path: Path) -> None:
    records, first, _ = runs
    other = train_adapter(records, TrainConfig(max_steps=2, seed=8, checkpoint_every=0), tmp_path)
    assert other.sha256 != first.sha256


def test_resume_from_checkpoint_ends_with_the_same_adapter(runs, tmp_path: Path) -> None:
    """Interrupted at step 20 and resumed, a run ends with the uninterrupted run's exact bytes."""
    records, first, _ = runs
    cfg = TrainConfig(max_steps=40, learning_rate=1e-2, batch_size=8, seed=7, checkpoint_every=10)
    from trainer_worker.errors import Interrupted

    calls = {"n": 0}

    def stop_at_step_20() -> bool:
        calls["n"] += 1
        return calls["n"] > 20

    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(Interrupted):
        train_adapter(
            records, cfg, tmp_path / "x", checkpoint_path=ckpt, run_key="k", should_stop=stop_at_step_20
        )
    assert torch.load(ckpt, weights_only=True)["step"] == 20
    resumed = train_adapter(records, cfg, tmp_path / "y", checkpoint_path=ckpt, run_key="k")
    assert resumed.metrics["resumed_from_step"] == 20
    assert resumed.sha256 == first.sha256
    # a checkpoint of another run (other key) is ignored: a clean restart
    fresh = train_adapter(records, cfg, tmp_path / "z", checkpoint_path=ckpt, run_key="other")
    assert "resumed_from_step" not in fresh.metrics and fresh.sha256 == first.sha256


def test_prompt_tokens_are_masked_in_the_labels() -> None:
    _, tokenizer = load_base_model("tiny")
    record = learnable_records()[0]
    (example,), skipped = build_examples([record], tokenizer, 256)
    assert skipped == 0
    target = [t for t in example.labels if t != -100]
    assert tokenizer.decode(target) == record["correction"] + "<|im_end|>"
    first_target = example.labels.index(target[0])
    assert all(t == -100 for t in example.labels[:first_target])


def test_examples_whose_prompt_is_cut_are_counted() -> None:
    """A prompt longer than max_length loses its start; the run reports how many did."""
    _, tokenizer = load_base_model("tiny")
    short = learnable_records()[0]
    long = short | {"context": "# filler line\n" * 60 + short["context"]}
    (kept, cut), skipped = build_examples([short, long], tokenizer, 128)
    assert skipped == 0 and kept.prompt_cut == 0 and cut.prompt_cut > 0
    assert len(cut) == 128 and cut.labels[-1] == kept.labels[-1]


def test_examples_that_cannot_fit_are_skipped_and_none_left_fails() -> None:
    _, tokenizer = load_base_model("tiny")
    long = learnable_records()[0] | {"correction": "x = 1\n" * 200}
    examples, skipped = build_examples([long, learnable_records()[1]], tokenizer, 64)
    assert (len(examples), skipped) == (1, 1)
    assert len(examples[0]) <= 64
    with pytest.raises(JobFailure) as err:
        build_examples([long], tokenizer, 64)
    assert err.value.code == "NO_TRAINABLE_EXAMPLES" and not err.value.retryable


def test_packing_gives_the_same_logits_as_separate_examples() -> None:
    """Packed rows (block-diagonal attention via position_ids) must not leak across examples."""
    model, tokenizer = load_base_model("tiny")
    model.eval()
    examples, _ = build_examples(learnable_records()[:5], tokenizer, 256)
    rows = pack_examples(examples, 256)
    assert len(rows) < len(examples)  # short examples do share rows
    batch = packed_batch(rows, tokenizer.pad_token_id)
    with torch.no_grad():
        # use_cache=False as in training: transformers detects packing only without a KV cache
        packed_logits = model(
            input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False
        ).logits
        for r, row in enumerate(rows):
            at = 0
            for e in row:
                alone = model(input_ids=torch.tensor([e.input_ids])).logits[0]
                assert torch.allclose(packed_logits[r, at : at + len(e)], alone, atol=1e-5)
                at += len(e)
        # the padded (unpacked) batch agrees too
        padded = pad_batch(examples, tokenizer.pad_token_id)
        logits = model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits
        alone = model(input_ids=torch.tensor([examples[1].input_ids])).logits[0]
        assert torch.allclose(logits[1, : len(examples[1])], alone, atol=1e-5)


def test_packed_training_learns_too(tmp_path: Path) -> None:
    cfg = TrainConfig(
        max_steps=30, learning_rate=2e-2, batch_size=2, seed=3, packing=True, checkpoint_every=0
    )
    result = train_adapter(learnable_records(), cfg, tmp_path)
    assert result.hyperparameters["packing"] is True
    assert result.metrics["final_loss"] < result.metrics["first_loss"] / 3


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "EMPTY_SNAPSHOT"),
        (b"\n\n", "EMPTY_SNAPSHOT"),
        (b'{"context": "x", "correction": "y"}\n{not json}\n', "INVALID_SNAPSHOT"),
        (b'{"context": "x"}\n', "INVALID_SNAPSHOT"),  # no correction
        (b'{"correction": "y"}\n', "INVALID_SNAPSHOT"),  # neither instruction nor context
        (b'{"context": "x", "correction": ""}\n', "INVALID_SNAPSHOT"),
        (b"[1, 2]\n", "INVALID_SNAPSHOT"),
        (b"\xff\xfe", "INVALID_SNAPSHOT"),
    ],
)
def test_invalid_snapshots_are_non_retryable_failures(raw: bytes, code: str) -> None:
    with pytest.raises(JobFailure) as err:
        parse_snapshot(raw)
    assert err.value.code == code and err.value.retryable is False


def test_snapshot_hash_is_checked() -> None:
    raw = snapshot_bytes(learnable_records())
    assert len(parse_snapshot(raw, sha256(raw))) == len(learnable_records())
    with pytest.raises(JobFailure) as err:
        parse_snapshot(raw, "0" * 64)
    assert err.value.code == "SNAPSHOT_HASH_MISMATCH" and not err.value.retryable


def test_epochs_bound_the_steps() -> None:
    from trainer_worker.train import total_steps

    assert total_steps(TrainConfig(max_steps=40), per_epoch=3) == 40
    assert total_steps(TrainConfig(max_steps=40, epochs=2), per_epoch=3) == 6
    assert total_steps(TrainConfig(max_steps=4, epochs=2), per_epoch=3) == 4
    assert total_steps(TrainConfig(epochs=0.1), per_epoch=3) == 1
