"""Genesis trainer worker: LoRA fine-tuning and evaluation jobs from the NATS JetStream work queue."""

__version__ = "0.1.0"
