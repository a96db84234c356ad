"""The architecture kind's study logic: a budgeted Optuna search over the LoRA configuration.

One study per architecture cycle, kept in Optuna's own RDB storage (Postgres in a deployment).
Each trial is a job of its own (docs/adr/0025-architecture-search.md): the trainer-bridge queues
the trial jobs and owns the budget; any worker that takes one joins the study, asks for one trial
(TPE sees every finished trial, whoever ran it), trains and tells it (run_one_trial):
  - TPE proposes (rank, alpha, dropout, target-module set, learning rate, steps); the first trials
    are the model's current training configuration (the baseline) and the previous studies' best
    (warm start), enqueued once;
  - each trial trains on the snapshot's training part and reports the loss on a validation part
    every few steps; the median pruner stops a trial worse than the median of earlier ones there;
  - a trial is tagged with its job id, so a redelivered job never runs a second trial and a trial
    left RUNNING by a worker that died is failed and asked again;
  - the validation part is cut from the training snapshot and never holds an item of the gate's
    frozen suite (nor anything that normalises to one): tuning on the gate's suite would fool it.
Nothing here talks to NATS: architecture_job.py does, through the callbacks below.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DEFAULT_TARGET_MODULES, TrainConfig
from .data import Example, build_examples, pad_batch
from .errors import JobFailure
from .normalise import correction_key, decontamination_key

# Named target-module sets: a categorical TPE can model (a free subset of seven modules could not
# be learned from a dozen trials).
TARGET_SETS: dict[str, tuple[str, ...]] = {
    "attention": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "mlp": ("gate_proj", "up_proj", "down_proj"),
    "all": DEFAULT_TARGET_MODULES,
}
RANKS: tuple[int, ...] = (4, 8, 16, 32, 64)
# alpha as a multiple of the rank: the adapter's scale is alpha / r, so searching alpha on its own
# mostly samples scales far from any that train (r=64 with alpha=1), wasting a small budget.
ALPHA_RATIOS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class StudyBudget:
    """How much one study may spend, across every worker that runs its trials."""

    trials: int = 12
    worker_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if not isinstance(self.trials, int) or not 1 <= self.trials <= 10_000:
            raise _invalid("INVALID_BUDGET", f"budget.trials must be in 1..10000 (got {self.trials!r})")
        if not self.worker_seconds > 0:
            raise _invalid(
                "INVALID_BUDGET", f"budget.worker_seconds must be > 0 (got {self.worker_seconds!r})"
            )


@dataclass(frozen=True)
class SearchSpace:
    """The ranges TPE samples. Steps move in multiples of `eval_every` so that every trial reports
    at the same steps and the pruner compares like with like."""

    min_steps: int = 20
    max_steps: int = 200
    eval_every: int = 10
    learning_rate: tuple[float, float] = (1e-5, 1e-1)
    alpha_ratios: tuple[float, ...] = ALPHA_RATIOS
    dropout: tuple[float, float] = (0.0, 0.1)
    ranks: tuple[int, ...] = RANKS
    target_sets: tuple[str, ...] = tuple(TARGET_SETS)

    def __post_init__(self) -> None:
        if not 1 <= self.eval_every <= self.min_steps <= self.max_steps:
            raise _invalid(
                "INVALID_SEARCH_SPACE",
                f"need 1 <= eval_every ({self.eval_every}) <= min_steps ({self.min_steps}) "
                f"<= max_steps ({self.max_steps})",
            )
        if not 0 < self.learning_rate[0] < self.learning_rate[1] <= 1:
            raise _invalid(
                "INVALID_SEARCH_SPACE", f"learning_rate range {self.learning_rate} is not in (0, 1]"
            )
        if not 0 <= self.dropout[0] <= self.dropout[1] <= 1:
            raise _invalid("INVALID_SEARCH_SPACE", f"dropout range {self.dropout} is not in [0, 1]")
        unknown = set(self.target_sets) - set(TARGET_SETS)
        if not self.target_sets or unknown or not self.ranks or not self.alpha_ratios:
            raise _invalid(
                "INVALID_SEARCH_SPACE",
                f"ranks, alpha_ratios and target_sets need at least one choice; target sets are "
                f"{sorted(TARGET_SETS)} (got {list(self.target_sets)})",
            )

    @property
    def step_grid(self) -> tuple[int, int]:
        """(low, high) of the steps as multiples of eval_every."""
        low = max(self.eval_every, self.min_steps // self.eval_every * self.eval_every)
        return low, max(low, self.max_steps // self.eval_every * self.eval_every)


def suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """Samples one configuration; returns it as jobs.train `hyperparameters`."""
    low, high = space.step_grid
    params = {
        "lora_r": trial.suggest_categorical("lora_r", list(space.ranks)),
        "alpha_ratio": trial.suggest_categorical("alpha_ratio", list(space.alpha_ratios)),
        "lora_dropout": trial.suggest_float("lora_dropout", *space.dropout),
        "target_set": trial.suggest_categorical("target_set", list(space.target_sets)),
        "learning_rate": trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        "max_steps": trial.suggest_int("max_steps", low, high, step=space.eval_every),
    }
    return params_to_hyperparameters(params)


def params_to_hyperparameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's params → jobs.train `hyperparameters` (the vocabulary of training configurations)."""
    return {
        "lora_r": int(params["lora_r"]),
        "lora_alpha": float(params["alpha_ratio"]) * int(params["lora_r"]),
        "lora_dropout": float(params["lora_dropout"]),
        "target_modules": list(TARGET_SETS[params["target_set"]]),
        "learning_rate": float(params["learning_rate"]),
        "max_steps": int(params["max_steps"]),
    }


def hyperparameters_to_params(hp: Mapping[str, Any], space: SearchSpace) -> dict[str, Any]:
    """A training configuration → trial params to enqueue (baseline, warm start). Numbers out of a
    range are kept (Optuna runs an enqueued value as given); a rank or module set the space does not
    list becomes the nearest one it does, because a categorical must be one of its choices."""
    rank = int(hp.get("lora_r", 16))
    modules = tuple(hp.get("target_modules") or DEFAULT_TARGET_MODULES)
    target_set = next((name for name, mods in TARGET_SETS.items() if set(mods) == set(modules)), "all")
    low, high = space.step_grid
    steps = int(hp.get("max_steps", high))
    nearest_rank = min(space.ranks, key=lambda r: (abs(math.log(r / rank)), r))
    ratio = float(hp.get("lora_alpha", 2.0 * rank)) / rank
    return {
        "lora_r": nearest_rank,
        "alpha_ratio": min(space.alpha_ratios, key=lambda a: (abs(math.log(a / ratio)), a)),
        "lora_dropout": float(hp.get("lora_dropout", 0.0)),
        "target_set": target_set if target_set in space.target_sets else space.target_sets[-1],
        "learning_rate": float(hp.get("learning_rate", 5e-3)),
        # on the step grid, inside the budget's range: a trial may not train longer than allowed
        "max_steps": min(high, max(low, round(steps / space.eval_every) * space.eval_every)),
    }


# --- the validation split ---------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    suite_excluded: int  # records left out of both parts because they match a frozen-suite item


def suite_keys(suite_items: Iterable[Mapping[str, Any]], level: str = "identifiers") -> set[str]:
    """The frozen suite's decontamination and correction keys, at the bridge's normalisation level
    (its own decontamination, ADR 0016: at `identifiers` every renamed copy matches too)."""
    keys: set[str] = set()
    for item in suite_items:
        if item.get("correction"):
            keys.add(decontamination_key(dict(item), level))
            keys.add("answer:" + correction_key(dict(item), level))
    return keys


def matches_suite(record: Mapping[str, Any], keys: set[str], level: str = "identifiers") -> bool:
    return (
        decontamination_key(dict(record), level) in keys
        or "answer:" + correction_key(dict(record), level) in keys
    )


def _invalid(code: str, message: str) -> JobFailure:
    return JobFailure(code, message, retryable=False, phase="validate")


def _unit(text: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:8], 16) / 0x100000000


def validation_split(
    records: Sequence[Mapping[str, Any]],
    suite_items: Iterable[Mapping[str, Any]] = (),
    *,
    fraction: float = 0.2,
    level: str = "identifiers",
    salt: str = "genesis-architecture-validation",
) -> Split:
    """Splits a training snapshot into a training and a validation part, by content (the same
    records always fall on the same side). A record that matches an item of the gate's frozen
    suite is in neither: the snapshot should hold none (the bridge decontaminates it), and if one
    slipped through, validating on it would tune the configuration to the gate's own items."""
    if not 0 < fraction < 1:
        raise _invalid("INVALID_SPLIT", f"validation fraction must be in (0, 1) (got {fraction!r})")
    keys = suite_keys(suite_items, level)
    kept = [dict(r) for r in records if not (keys and matches_suite(r, keys, level))]
    excluded = len(records) - len(kept)
    if len(kept) < 2:
        raise JobFailure(
            "TOO_FEW_RECORDS",
            f"a study needs 2 records outside the frozen suite to train and validate (got {len(kept)})",
            retryable=False,
            phase="validate",
        )
    # by the learning's id (its content when it has none): two variants of one learning are both
    # training data, and may fall on different sides
    scored = sorted(
        (
            (_unit(str(r.get("learning_id") or json.dumps(r, sort_keys=True)), salt), i)
            for i, r in enumerate(kept)
        ),
        key=lambda p: p[0],
    )
    n_val = min(len(kept) - 1, max(1, round(len(kept) * fraction)))
    val_idx = {i for _, i in scored[:n_val]}
    return Split(
        train=[r for i, r in enumerate(kept) if i not in val_idx],
        validation=[r for i, r in enumerate(kept) if i in val_idx],
        suite_excluded=excluded,
    )


def validation_loss(model: Any, examples: Sequence[Example], pad_id: int, batch_size: int = 16) -> float:
    """Mean token loss of the corrections (prompt tokens masked), the model left in train mode."""
    import torch

    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    try:
        with torch.no_grad():
            for at in range(0, len(examples), batch_size):
                batch = pad_batch(examples[at : at + batch_size], pad_id)
                batch = {k: v.to(model.device) for k, v in batch.items()}
                labels = batch.pop("labels")
                logits = model(**batch, use_cache=False).logits[:, :-1].float()
                targets = labels[:, 1:]
                scored = targets != -100
                nll = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), targets.clamp(min=0).reshape(-1), reduction="none"
                )
                total += float((nll * scored.reshape(-1)).sum())
                tokens += int(scored.sum())
    finally:
        if was_training:
            model.train()
    return total / max(1, tokens)


# --- the study ---------------------------------------------------------------------------------


STUDY_SCHEMA = "optuna"  # Optuna's tables in a schema of their own, beside Genesis' tables


def storage(url: str, *, heartbeat_s: int = 30) -> Any:
    """Optuna's RDB storage. A Postgres URL keeps its tables in the `optuna` schema (created here
    when missing, as the migrations do); the heartbeat lets a surviving worker fail the RUNNING
    trials of a worker that died (grace: 4 beats), so a resumed study never waits for a ghost. A
    path (no scheme) is a SQLite file, for one worker (tests, a laptop)."""
    import optuna
    import sqlalchemy
    import sqlalchemy.exc

    kwargs: dict[str, Any] = {}
    if "://" not in url:
        url = f"sqlite:///{url}"
    elif not url.startswith("sqlite"):
        url = re.sub(r"^postgres(ql)?(\+psycopg2)?://", "postgresql+psycopg2://", url)
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.begin() as conn:
                # Looked up first: a deployment's role may use `optuna` but not create schemas, and
                # Postgres checks that right even when the schema exists (deploy/k8s/postgres).
                found = conn.execute(
                    sqlalchemy.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": STUDY_SCHEMA}
                ).first()
                if found is None:
                    conn.execute(sqlalchemy.text(f"CREATE SCHEMA IF NOT EXISTS {STUDY_SCHEMA}"))
        except sqlalchemy.exc.IntegrityError:
            pass  # created by a worker racing this one
        finally:
            engine.dispose()
        kwargs = {
            "heartbeat_interval": heartbeat_s,
            "grace_period": heartbeat_s * 4,
            "engine_kwargs": {
                "pool_pre_ping": True,
                "connect_args": {"options": f"-csearch_path={STUDY_SCHEMA}"},
            },
        }
    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Two workers creating Optuna's tables at once: one wins, the other finds them next time.
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def open_study(store: Any, name: str, *, seed: int, space: SearchSpace, startup_trials: int = 4) -> Any:
    """Creates the study or joins it (each trial job, on any worker)."""
    import optuna

    study = optuna.create_study(
        storage=store,
        study_name=name,
        direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials),
        # Compare at the same steps: warm-up one eval interval, then at every report.
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=space.eval_every),
    )
    # Each trial job opens the study afresh, so its sampler is new: seeded by the study's seed alone,
    # every job would draw the same "random" startup configuration. Seeded by the study's seed and
    # the trials it holds, each job draws its own, and a study run one trial at a time (parallelism
    # 1) is reproducible.
    held = len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(seed=seed + held, n_startup_trials=startup_trials)
    return study


def enqueue_starts(study: Any, starts: Sequence[Mapping[str, Any]], space: SearchSpace) -> int:
    """Enqueues the baseline and warm-start configurations once (skip_if_exists: a resumed study
    or a second worker does not enqueue them again). Returns how many are in the study's queue."""
    for hp in starts:
        study.enqueue_trial(hyperparameters_to_params(hp, space), skip_if_exists=True)
    return len(starts)


def spent(study: Any) -> tuple[int, float]:
    """(finished trials, worker-seconds) of the whole study, whoever ran them."""
    from optuna.trial import TrialState

    finished = [
        t for t in study.get_trials(deepcopy=False) if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    seconds = sum(
        (t.datetime_complete - t.datetime_start).total_seconds()
        for t in finished
        if t.datetime_complete and t.datetime_start
    )
    return len(finished), seconds


@dataclass
class TrialRun:
    """What the objective needs besides the trial: the data, the base config and the callbacks."""

    train_records: list[dict[str, Any]]
    validation_records: list[dict[str, Any]]
    base: TrainConfig
    space: SearchSpace
    work_dir: Path
    # keep_adapter(trial_number, adapter_dir) → the stored artifact (bucket/key/sha256...), called
    # for a trial that is the best finished one when it completes.
    keep_adapter: Callable[[int, Path], dict[str, Any]]
    should_stop: Callable[[], bool] = lambda: False
    model_cache: Path | None = None
    tokenizer: Any = None  # loaded by the first trial, with the validation examples it encodes
    validation_examples: list[Example] = field(default_factory=list)


def objective(trial: Any, run: TrialRun) -> float:
    """Trains one configuration; the validation loss at its last step is its value."""
    import optuna

    from .base_model import load_base_model
    from .train import train_adapter

    hp = suggest(trial, run.space)
    cfg = run.base.with_overrides(hp)
    if run.tokenizer is None:
        run.tokenizer = load_base_model(cfg.base_model, cache_dir=run.model_cache)[1]
        run.validation_examples = build_examples(run.validation_records, run.tokenizer, cfg.max_length)[0]
    trial.set_user_attr("hyperparameters", hp)
    losses: dict[int, float] = {}

    def after_step(done: int, model: Any) -> None:
        if run.should_stop():
            raise Stopping(f"the worker is stopping (trial {trial.number}, step {done})")
        if done % run.space.eval_every and done != cfg.max_steps:
            return
        loss = validation_loss(model, run.validation_examples, run.tokenizer.pad_token_id, cfg.batch_size)
        losses[done] = loss
        trial.report(loss, done)
        if not math.isfinite(loss) or trial.should_prune():
            trial.set_user_attr("pruned_at_step", done)
            raise optuna.TrialPruned(f"validation loss {loss:.4f} at step {done}")

    result = train_adapter(
        run.train_records,
        cfg,
        run.work_dir / f"trial-{trial.number}",
        model_cache=run.model_cache,
        after_step=after_step,
    )
    value = losses[max(losses)]
    trial.set_user_attr(
        "train_metrics", {k: result.metrics[k] for k in ("final_loss", "steps", "train_seconds")}
    )
    if _is_best_so_far(trial.study, value):
        # what training.completed reports of the adapter, kept with it (the best may be another worker's)
        trial.set_user_attr(
            "trained",
            {"metrics": result.metrics, "hyperparameters": result.hyperparameters, "device": result.device},
        )
        trial.set_user_attr("artifact", run.keep_adapter(trial.number, result.adapter_dir))
    return value


class Stopping(Exception):
    """The worker is shutting down: the running trial is failed and the study resumes later."""


def _is_best_so_far(study: Any, value: float) -> bool:
    from optuna.trial import TrialState

    done = [
        t.value
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    return not done or value <= min(done)


def run_one_trial(study: Any, run: TrialRun, *, job_id: str, worker_id: str) -> Any:
    """One trial of the study for one jobs.architecture job (ADR 0025: a trial is a job): asks the
    sampler (which sees every finished trial, whoever ran it), trains, tells. Returns the frozen
    trial, finished (complete or pruned).

    Idempotent per job: the trial is tagged with the job id. A redelivered job whose trial already
    finished gets that trial back (no second run); one whose trial is still RUNNING was left by a
    worker that died mid-trial (this worker holds the job now), so that trial is failed and a new
    one is asked: the job is re-run, not lost."""
    from optuna.trial import TrialState

    _fail_stale(study)
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("job_id") == job_id]
    for t in mine:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            return t
    for t in mine:
        if t.state == TrialState.RUNNING:
            study._storage.set_trial_user_attr(t._trial_id, "failed_reason", "its worker died; re-run")
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            # the same configuration again (the baseline stays in the study): what it sampled, or
            # what was enqueued for it when it died before sampling
            params = dict(t.params) or dict(t.system_attrs.get("fixed_params") or {})
            if params:
                study.enqueue_trial(params, user_attrs={"rerun_of": t.number})
    trial = study.ask()
    # ask() takes the oldest waiting (enqueued) trial first; a re-run is the newest, so a study with
    # warm starts still waiting runs them first and the re-run when its turn comes
    trial.set_user_attr("job_id", job_id)
    trial.set_user_attr("worker_id", worker_id)
    with _heartbeat(study, trial):
        try:
            value = objective(trial, run)
        except Exception as err:
            import optuna

            if isinstance(err, optuna.TrialPruned):
                study.tell(trial, state=TrialState.PRUNED)
            else:
                trial.set_user_attr("failed_reason", f"{type(err).__name__}: {err}"[:500])
                study.tell(trial, state=TrialState.FAIL)
                raise
        else:
            study.tell(trial, value)
    return study._storage.get_trial(trial._trial_id)


def _fail_stale(study: Any) -> None:
    """Fails RUNNING trials whose worker stopped beating (another worker that died); a no-op on a
    storage without heartbeats (SQLite: one worker)."""
    from optuna.storages._heartbeat import fail_stale_trials, is_heartbeat_enabled

    if is_heartbeat_enabled(study._storage):
        fail_stale_trials(study)


class _heartbeat:
    """Optuna's trial heartbeat (what study.optimize runs), so other workers can tell this trial is
    alive; without it a crashed worker's trial stays RUNNING until its job is redelivered."""

    def __init__(self, study: Any, trial: Any) -> None:
        # Optuna's own (what study.optimize uses); a no-op thread on a storage without heartbeats
        from optuna.storages._heartbeat import get_heartbeat_thread

        self.thread = get_heartbeat_thread(trial._trial_id, study._storage)

    def __enter__(self) -> None:
        self.thread.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.thread.__exit__(*exc)


def trial_summary(t: Any) -> dict[str, Any]:
    duration = (
        (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start
        else None
    )
    intermediate = {str(k): v for k, v in sorted(t.intermediate_values.items())}
    return {
        "number": t.number,
        "state": t.state.name.lower(),
        "value": t.value,
        "params": dict(t.params),
        "hyperparameters": t.user_attrs.get("hyperparameters"),
        "intermediate": intermediate,
        "pruned_at_step": t.user_attrs.get("pruned_at_step"),
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "has_artifact": "artifact" in t.user_attrs,
        "worker_id": t.user_attrs.get("worker_id"),
        "job_id": t.user_attrs.get("job_id"),
        "rerun_of": t.user_attrs.get("rerun_of"),
    }


def importance(study: Any) -> dict[str, Any]:
    """Parameter importance (fANOVA, Optuna's default); needs at least two complete trials whose
    parameters differ, else says why there is none."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {"values": None, "reason": f"{len(complete)} complete trial(s); importance needs at least 2"}
    try:
        values = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
        )
    except (RuntimeError, ValueError) as err:  # e.g. every complete trial had the same params
        return {"values": None, "reason": str(err)[:300]}
    return {"values": {k: round(float(v), 6) for k, v in values.items()}, "reason": None}


def summarise(study: Any, budget: StudyBudget) -> dict[str, Any]:
    """The study as the API shows it: every trial, counts by state, the best and the importance."""
    trials = [trial_summary(t) for t in study.get_trials(deepcopy=False)]
    counts: dict[str, int] = {"complete": 0, "pruned": 0, "fail": 0, "running": 0, "waiting": 0}
    for t in trials:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    n_finished, seconds = spent(study)
    best = None
    try:
        b = study.best_trial
        best = {
            "number": b.number,
            "value": b.value,
            "params": dict(b.params),
            "hyperparameters": b.user_attrs.get("hyperparameters"),
            "artifact": b.user_attrs.get("artifact"),
            "trained": b.user_attrs.get("trained"),
        }
    except ValueError:  # no complete trial
        pass
    return {
        "study_name": study.study_name,
        "direction": "minimize",
        "objective": "validation_loss",
        "trials": trials,
        "counts": counts,
        "budget": {
            "trials": budget.trials,
            "worker_seconds": budget.worker_seconds,
            "spent_trials": n_finished,
            "spent_worker_seconds": round(seconds, 3),
        },
        "best": best,
        "importance": importance(study),
    }


__all__ = [
    "StudyBudget",
    "SearchSpace",
    "Split",
    "TrialRun",
    "validation_split",
    "open_study",
    "run_one_trial",
    "summarise",
]
