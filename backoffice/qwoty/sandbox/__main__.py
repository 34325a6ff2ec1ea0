"""Run the sandbox: `python -m backoffice.qwoty.sandbox --port 8765 --db sandbox.sqlite3`.

Prints one line with its URL once it accepts requests, and stops cleanly on
SIGINT or SIGTERM so `make run` and process managers can stop it quietly.
"""

import argparse
import signal
import threading

from . import DEFAULT_PORT, DEFAULT_TOKEN, SandboxServer


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m backoffice.qwoty.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--db", metavar="PATH", help="sqlite file to keep data in (default: in memory)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="accepted bearer token")
    parser.add_argument("--customers", type=int, default=300, help="customers to seed")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--latency-ms", type=int, help="delay before every /api answer")
    parser.add_argument("--error-rate", type=float, help="probability of a 503")
    parser.add_argument("--drop-rate", type=float, help="probability of closing the connection unanswered")
    parser.add_argument("--rate-limit-rate", type=float, help="probability of a 429")
    parser.add_argument("--retry-after", type=int, help="Retry-After seconds sent with a 429")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = ("latency_ms", "error_rate", "drop_rate", "rate_limit_rate", "retry_after")
    faults = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    try:
        server = SandboxServer(args.host, args.port, args.db, args.token, args.customers, args.seed)
    except OSError as error:
        raise SystemExit(f"error: cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    try:
        server.faults.update(faults)
    except ValueError as error:
        server.stop()
        raise SystemExit(f"error: {error}") from None
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    print(f"Qwoty sandbox listening on {server.url}", flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
