"""Failures of a job that end it with its failure event (training.failed, evaluation.failed):
stable codes, retryable or not."""

from __future__ import annotations


class JobFailure(Exception):
    """The job ends with *.failed {reason: {code, message}, retryable, phase}.

    retryable=False: the same job can never succeed (bad snapshot or suite, hash mismatch, bad base
    model name); the message is acked, not redelivered. retryable=True: the bridge / evaluator may
    try again with a new job.
    """

    def __init__(self, code: str, message: str, *, retryable: bool, phase: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.phase = phase


class Interrupted(Exception):
    """A job stopped on request (SIGTERM): training saved its checkpoint; the job goes back."""
