"""Run the sandbox: `python -m sandbox --port 8765 --db sandbox.sqlite3`.

Prints one line with its URL once it accepts requests, and stops cleanly on
SIGINT or SIGTERM so `make run` and process managers can stop it quietly.
"""

import argparse
import signal
import threading

from sandbox import DEFAULT_PORT, SandboxServer
from sandbox.server import SANDBOX_CREDENTIALS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--db", metavar="PATH", help="sqlite file to keep data in (default: in memory)")
    # The credentials it accepts: its public ones by default; a production-like run (DEBUG off, which refuses
    # those) passes its own, e.g. --qwoty-api-token qwt_bench_... --koywe-merchant-id mer_bench.
    for setting, default in SANDBOX_CREDENTIALS.items():
        flag = "--" + setting.lower().replace("_", "-")
        parser.add_argument(flag, default=default, metavar="VALUE", help=f"what it takes as our {setting}")
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
        server = SandboxServer(
            args.host,
            args.port,
            args.db,
            args.qwoty_api_token,
            args.customers,
            args.seed,
            prioticket_client_id=args.prioticket_client_id,
            prioticket_client_secret=args.prioticket_client_secret,
            koywe_token=args.koywe_api_token,
            koywe_organization_id=args.koywe_organization_id,
            koywe_merchant_id=args.koywe_merchant_id,
        )
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
