"""Answers a hostile or broken upstream might give, scripted one at a time like the other faults.

The request is handled as usual (a PATCH or PUT is applied), then its answer is mangled:

- `deep_json`: the body is `size` "[" (default 100,000), which no JSON decoder can nest that deep;
- `huge`: the answer padded with a `"padding"` member to `size` bytes (default 64 MiB), written a block
  at a time (never held whole here), with a Content-Length or, with `"chunked": true`, without one;
- `trickle`: the answer one byte every `byte_ms` (default 100), each byte well within a read timeout.

`status` replaces the answer's status (a 503 nested too deep, say).
"""

import json
import time
from dataclasses import dataclass

MODES = ("deep_json", "huge", "trickle")
DEFAULT_SIZE = {"deep_json": 100_000, "huge": 64 * 1024 * 1024}
DEFAULT_BYTE_MS = 100
BLOCK = 64 * 1024


@dataclass(frozen=True)
class Hostile:
    mode: str
    status: int | None = None
    size: int = 0
    chunked: bool = False
    byte_ms: int = DEFAULT_BYTE_MS

    def entry(self) -> dict:
        """As the script lists it."""
        entry = {"hostile": self.mode} | ({"status": self.status} if self.status else {})
        if self.mode == "trickle":
            return entry | {"byte_ms": self.byte_ms}
        return entry | {"size": self.size} | ({"chunked": self.chunked} if self.mode == "huge" else {})


def send(handler, hostile: Hostile, status: int, payload, headers: dict) -> None:
    """Write the mangled answer on `handler` (a BaseHTTPRequestHandler). A client that gives up midway
    closes the connection: the next write fails, which the server takes quietly."""
    handler.close_connection = True  # what follows a half-read answer on this connection is unknowable
    body = json.dumps(payload, ensure_ascii=False).encode()
    handler.send_response(hostile.status or status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    for name, value in headers.items():
        handler.send_header(name, value)
    if hostile.mode == "deep_json":
        _send_whole(handler, b"[" * hostile.size)
    elif hostile.mode == "huge":
        _send_padded(handler, body, hostile.size, chunked=hostile.chunked)
    else:
        _send_trickled(handler, body, hostile.byte_ms / 1000)


def _send_whole(handler, data: bytes) -> None:
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _send_padded(handler, body: bytes, size: int, *, chunked: bool) -> None:
    start = (body[:-1] + b', "padding": "') if body.endswith(b"}") else b'{"padding": "'
    end = b'"}'
    padding = max(size - len(start) - len(end), 0)
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(len(start) + padding + len(end)))
    handler.end_headers()

    def write(data: bytes) -> None:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

    write(start)
    block = b"x" * BLOCK
    for _ in range(padding // BLOCK):
        write(block)
    if padding % BLOCK:
        write(block[: padding % BLOCK])
    write(end)
    if chunked:
        handler.wfile.write(b"0\r\n\r\n")


def _send_trickled(handler, body: bytes, pause: float) -> None:
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for index in range(len(body)):
        handler.wfile.write(body[index : index + 1])
        time.sleep(pause)
