"""The embedder's tiny HTTP endpoint for the kubelet and Prometheus (optional: GENESIS_EMBEDDER_PORT).

The embedder is otherwise NATS only. Without this, Kubernetes could only restart it when the process
exits; a process that lost NATS for good, or whose model failed to load, would sit there answering
nothing. Routes (GET only, no body read):
  /health/live   200 while the event loop turns (the process is not wedged);
  /health/ready  200 when the model is loaded and NATS is connected with the subscription in place,
                 503 with the reason otherwise;
  /metrics       Prometheus text: requests and items embedded, NATS connected.
The standard library's asyncio server is enough for three GET routes: no web framework to install.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

MAX_REQUEST_LINE = 8 * 1024


def _response(status: int, body: bytes, content_type: str) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class HealthEndpoint:
    """Serves the routes above from `state()`: {"ready": bool, "reason": str, "metrics": {...}}."""

    def __init__(self, state: Callable[[], dict[str, Any]]):
        self.state = state

    def route(self, method: str, path: str) -> bytes:
        path = path.split("?", 1)[0]
        if method != "GET":
            return _response(405, b'{"error":"only GET"}', "application/json")
        if path == "/health/live":
            return _response(200, b'{"status":"ok"}', "application/json")
        if path == "/health/ready":
            s = self.state()
            body = json.dumps({"status": "ok" if s["ready"] else "unavailable", "reason": s["reason"]})
            return _response(200 if s["ready"] else 503, body.encode(), "application/json")
        if path == "/metrics":
            lines = []
            for name, (kind, help_text, value) in self.state()["metrics"].items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
            return _response(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")
        return _response(404, b'{"error":"not found"}', "application/json")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=5)
            parts = line[:MAX_REQUEST_LINE].decode("latin-1").split()
            reply = self.route(parts[0], parts[1]) if len(parts) >= 2 else _response(405, b"", "text/plain")
            writer.write(reply)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a probe that hung up or never spoke: nothing to answer
        finally:
            writer.close()

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._handle, host, port)
