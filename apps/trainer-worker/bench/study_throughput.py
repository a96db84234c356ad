"""Architecture-search throughput: trials/hour of an Optuna study on this machine (ADR 0025).

    .venv/bin/python bench/study_throughput.py                     # tiny model, 6 trials, 60-120 steps
    .venv/bin/python bench/study_throughput.py --trials 12 --max-steps 200

Runs the worker's own study code (TPE + median pruning, SQLite storage in a temporary folder) on
the e2e fixture's rule family, as an architecture cycle would: the first trial is the worker's
default configuration, then TPE's proposals. Prints one JSON line: trials/hour (finished trials per
hour of wall time), the pruned share, the mean seconds of a complete and of a pruned trial, and the
best validation loss against the baseline's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trainer_worker.config import TrainConfig  # noqa: E402
from trainer_worker.study import (  # noqa: E402
    SearchSpace,
    StudyBudget,
    TrialRun,
    enqueue_starts,
    open_study,
    run_trials,
    storage,
    summarise,
    validation_split,
)

FIXTURE = Path(__file__).resolve().parents[3] / "apps" / "e2e" / "fixtures" / "rule-family.jsonl"


def records(n: int) -> list[dict]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    keep = ("language", "context", "model_output", "correction")
    return [{"learning_id": f"b-{i}", **{k: r[k] for k in keep if r.get(k)}} for i, r in enumerate(rows[:n])]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--min-steps", type=int, default=60)
    parser.add_argument("--max-steps", type=int, default=120)
    parser.add_argument("--eval-every", type=int, default=20)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    split = validation_split(records(args.examples))
    space = SearchSpace(min_steps=args.min_steps, max_steps=args.max_steps, eval_every=args.eval_every)
    base = TrainConfig(device=args.device, checkpoint_every=0)
    budget = StudyBudget(trials=args.trials, worker_seconds=10 * 3600)
    with tempfile.TemporaryDirectory() as tmp:
        study = open_study(storage(str(Path(tmp) / "bench.db")), "bench", seed=1234, space=space)
        enqueue_starts(study, [base.hyperparameters()], space)  # the worker's default first
        run = TrialRun(
            split.train,
            split.validation,
            base,
            space,
            Path(tmp) / "trials",
            keep_adapter=lambda number, _dir: {"key": f"trial-{number}"},
        )
        started = time.monotonic()
        run_trials(study, run, budget)
        wall = time.monotonic() - started
        summary = summarise(study, budget)
    trials = summary["trials"]

    def mean_seconds(state: str) -> float | None:
        durations = [t["duration_seconds"] for t in trials if t["state"] == state and t["duration_seconds"]]
        return round(sum(durations) / len(durations), 2) if durations else None

    finished = summary["counts"]["complete"] + summary["counts"]["pruned"]
    baseline = next(t for t in trials if t["number"] == 0)
    print(
        json.dumps(
            {
                "device": args.device,
                "trials": finished,
                "wall_seconds": round(wall, 1),
                "trials_per_hour": round(finished / wall * 3600, 1),
                "pruned_share": round(summary["counts"]["pruned"] / max(1, finished), 2),
                "mean_complete_seconds": mean_seconds("complete"),
                "mean_pruned_seconds": mean_seconds("pruned"),
                "baseline_value": baseline["value"],
                "best_value": summary["best"]["value"] if summary["best"] else None,
                "steps": [args.min_steps, args.max_steps],
            }
        )
    )


if __name__ == "__main__":
    main()
