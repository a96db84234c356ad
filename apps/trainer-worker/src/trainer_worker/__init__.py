"""Genesis trainer worker: LoRA fine-tuning jobs from the NATS JetStream work queue."""

__version__ = "0.1.0"
