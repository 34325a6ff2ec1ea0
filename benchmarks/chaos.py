"""make chaos: thousands of concurrent edits against a hostile upstream; nothing may be lost.

Random edits by concurrent writers on 500 records while the sandbox answers 30% 503, drops 5% of
connections, goes down for 10 seconds, and the worker is SIGKILLed and restarted twice. Some of the
contacts are also linked to Prioticket, whose double answers with the same faults. At the end every
record and link must be synced, Qwoty's state must equal ours field for field, and Prioticket's copy of
each linked contact must equal ours. Exit status 1 otherwise.
"""

import argparse
import random
import sys
import threading
import time

from benchmarks.scratch import PRODUCTION, scratch_backoffice

WORKER_SETTINGS = {
    # Many retries, short backoff, quick stale detection: a hostile upstream, not a slow test.
    "QWOTY_RETRY_BASE_SECONDS": 0.05,
    "QWOTY_RETRY_MAX_SECONDS": 2,
    "QWOTY_PUSH_MAX_ATTEMPTS": 100,
    "QWOTY_PUSH_STALE_SECONDS": 5,
    "QWOTY_PUSH_RATE_PER_SECOND": 0,
    "QWOTY_READ_TIMEOUT": 3,
}
WORKER_THREADS = 4  # the production worker, `qwoty_worker`, as `make run` starts it
ROLES = ["buyer", "signer", "billing", "shipping", "legal", "admin"]


def random_edit(rng: random.Random, resource: str, n: int) -> dict:
    if resource == "catalogs":
        return rng.choice(
            [
                {"name": f"Catalog edit {n}"},
                {"reference": f"CAT-{n}"},
                {"description": rng.choice([None, f"Description {n}"])},
                {"is_active": rng.random() < 0.5},
            ]
        )
    if resource == "contacts":
        return rng.choice(
            [
                {"first_name": f"First{n}"},
                {"last_name": f"Last{n}"},
                {"id_crm": rng.choice([None, f"CRM-{n}"])},
                {"role": rng.sample(ROLES, rng.randint(0, 3))},
                {"phone": f"+33 6 {n % 100:02d} 00 00 00"},
            ]
        )
    return rng.choice(
        [
            {"name": f"Customer edit {n}"},
            {"id_erp": rng.choice([None, f"ERP-{n}"])},
            {"tax_ids": [{"tax": "SIREN", "tax_value": "732829320"}] if rng.random() < 0.5 else []},
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=2000)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--linked", type=int, default=50, help="of the edited contacts, how many are linked to Prioticket"
    )
    args = parser.parse_args()

    sandbox = scratch_backoffice(customers=200, settings={**WORKER_SETTINGS, **PRODUCTION})
    from django.db import close_old_connections, connection

    from backoffice.sync import mirror as mirrors
    from backoffice.sync.edits import record_update
    from backoffice.sync.models import PushAttempt
    from contacts.links import link_save, new_link
    from contacts.models import Contact
    from tests import harness

    rng = random.Random(args.seed)
    pool = [(m, pk) for m in mirrors.all_mirrors() for pk in m.model.objects.values_list("pk", flat=True)]
    records = rng.sample(pool, min(args.records, len(pool)))
    contacts = [pk for mirror, pk in records if mirror.resource == "contacts"][: args.linked]
    for pk in contacts:
        link_save(link=new_link(Contact.objects.get(pk=pk), "prioticket"), user=None)
    print(
        f"chaos: {len(records)} records ({len(contacts)} contacts also linked to Prioticket), {args.edits} edits, "
        f"{args.writers} writers, database {connection.vendor}"
    )

    sandbox.clear_log()
    sandbox.faults(error_rate=0.3, drop_rate=0.05, fault_seed=args.seed)
    workers = [harness.start_worker(threads=WORKER_THREADS, **WORKER_SETTINGS)]
    sweeper = harness.sweeper(**WORKER_SETTINGS)
    edits_done = 0
    lock = threading.Lock()
    events = {int(args.edits * 0.3): "kill", int(args.edits * 0.45): "outage", int(args.edits * 0.7): "kill"}

    def writer(writer_rng: random.Random, count: int):
        nonlocal edits_done
        try:
            for _ in range(count):
                mirror, pk = writer_rng.choice(records)
                with lock:
                    edits_done += 1
                    n = edits_done
                    event = events.pop(n, None)
                if event == "kill":
                    harness.stop(workers[-1], kill=True)
                    workers.append(harness.start_worker(threads=WORKER_THREADS, **WORKER_SETTINGS))
                    print(f"  edit {n}: worker SIGKILLed and restarted")
                elif event == "outage":
                    sandbox.faults(outage_seconds=10)
                    print(f"  edit {n}: 10-second upstream outage")
                record = mirror.model.objects.get(pk=pk)
                record_update(record=record, user=None, data=random_edit(writer_rng, mirror.resource, n))
                time.sleep(writer_rng.uniform(0, 0.01))
        finally:
            close_old_connections()

    started = time.monotonic()
    per_writer = args.edits // args.writers
    threads = [
        threading.Thread(
            target=writer, args=(random.Random(args.seed + i), per_writer + (i < args.edits % args.writers))
        )
        for i in range(args.writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    edited_in = time.monotonic() - started
    print(f"  {edits_done} edits made in {edited_in:.1f}s; draining with faults still on…")
    synced = harness.wait_until_all_synced(timeout=600, poll=0.5)
    drained_in = time.monotonic() - started
    for process in [*workers, sweeper]:
        harness.stop(process)

    sandbox.clear_faults()
    lost = harness.differences_with_upstream() + harness.link_differences(sandbox)
    unsynced = harness.unsynced_count()
    patches = len(sandbox.received("PATCH"))
    puts = len([entry for entry in sandbox.received("PUT") if entry["path"].startswith("/prioticket/")])
    retries = PushAttempt.objects.exclude(error_kind="").count()
    print(f"edits made: {edits_done}")
    print(f"PATCHes sent: {patches}; PUTs to Prioticket: {puts} (attempts stored: {PushAttempt.objects.count()})")
    print(f"retries: {retries}")
    print(f"time: edits {edited_in:.1f}s, all synced after {drained_in:.1f}s" if synced else "time: never drained")
    print(f"records and links not synced: {unsynced}")
    print(f"records lost: {len({line.split(' ')[1] for line in lost})}")
    for line in lost[:20]:
        print(f"  {line}")
    sandbox.stop()
    return 0 if synced and not lost and not unsynced else 1


if __name__ == "__main__":
    sys.exit(main())
