"""Subjects and streams of the bus, generated from libs/contracts/src/subjects.ts: do not edit.

Regenerate with `npm run contracts:python` (a spec fails when this file is stale). The subject
scheme is ADR 0001; workers.heartbeat is ADR 0023.
"""

# --- events and jobs, stored in a stream (SUBJECTS) ---
LEARNING_CAPTURED = "learning.captured"
LEARNING_STORED = "learning.stored"
LEARNING_REJECTED = "learning.rejected"
LEARNING_RESCAN_REQUESTED = "learning.rescan_requested"
LEARNING_RESCANNED = "learning.rescanned"
FEEDBACK_RECORDED = "feedback.recorded"
CYCLE_REQUESTED = "cycle.requested"
CYCLE_FAILED = "cycle.failed"
THRESHOLD_REACHED = "threshold.reached"
TRAINING_PROGRESS = "training.progress"
TRAINING_COMPLETED = "training.completed"
TRAINING_FAILED = "training.failed"
MODEL_TRAINED = "model.trained"
EVALUATION_COMPLETED = "evaluation.completed"
EVALUATION_FAILED = "evaluation.failed"
MODEL_EVALUATED = "model.evaluated"
MODEL_DEPLOYED = "model.deployed"
MODEL_REJECTED = "model.rejected"
MODEL_ROLLED_BACK = "model.rolled_back"
ROLLBACK_REQUESTED = "rollback.requested"
TASK_QUEUED = "task.queued"
TASK_STARTED = "task.started"
TASK_COMPLETED = "task.completed"
TASK_CANCELLED = "task.cancelled"
ENGINE_ITERATION_REQUESTED = "engine.iteration_requested"
JOBS_TRAIN = "jobs.train"
JOBS_ARCHITECTURE = "jobs.architecture"
STUDY_TRIAL_FINISHED = "study.trial.finished"
JOBS_EVALUATE = "jobs.evaluate"

# --- core request/reply, not stored (REQUESTS) ---
EMBEDDINGS_COMPUTE = "embeddings.compute"
EMBEDDINGS_CLUSTER = "embeddings.cluster"

# --- core fire-and-forget, not stored (BROADCASTS) ---
WORKERS_HEARTBEAT = "workers.heartbeat"

# --- streams (STREAMS) ---
STREAM_EVENTS = "GENESIS_EVENTS"
STREAM_CAPTURES = "GENESIS_CAPTURES"
STREAM_JOBS = "GENESIS_JOBS"
STREAM_DLQ = "GENESIS_DLQ"
STREAM_CAPTURE_DLQ = "GENESIS_CAPTURE_DLQ"
