"""`python -m trainer_worker`: the worker process (config from the environment, JSON logs on stdout)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import warnings

from .config import ConfigError, load_config

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, like the TypeScript services' logs (extra fields inline)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": "trainer-worker",
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def main() -> None:
    try:
        config = load_config()
    except ConfigError as err:
        print(f"[trainer-worker] invalid configuration: {err}", file=sys.stderr)
        sys.exit(2)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for noisy in ("nats", "httpx", "transformers", "peft"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # transformers' notice about its own API, raised from inside peft: not actionable here
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )

    from .worker import serve

    try:
        asyncio.run(serve(config))
    except SystemExit as err:
        if isinstance(err.code, str):
            print(f"[trainer-worker] {err.code}", file=sys.stderr)
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
