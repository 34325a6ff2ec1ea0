"""make bench-taxids: tax-ID validation throughput, and the review page with 100,000 tax IDs.

1. Validation: the demo data (the sandbox's seeded customers, pulled into a scratch database as
   `make run` does) validated over and over for at least a second: tax IDs per second for the bare
   check (validate_tax_id) and for what is stored on each row (check_fields, with the country hint).
2. Review page: the scratch database grows to 100,000 tax IDs (customers made by the sandbox's own
   generator, bulk inserted, a quarter of them already reviewed). Then, in-process through Django's
   test client as a manager, at least 50 requests each of page 1, the invalid ones only, and a
   search; server time p50/p95 and the query count of one more request.
"""

import argparse
import random
import statistics
import sys
import time
import uuid
from urllib.parse import urlencode

from benchmarks.scratch import PRODUCTION, production_static_files, scratch_backoffice

TARGET_P95_MS = 60


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def validation_throughput(pairs: list[tuple[str, str]], *, min_seconds: float) -> tuple[float, float]:
    """Tax IDs per second: the bare check, and the stored columns (check + country hint + suggestion)."""
    from customers.tax_ids.services import check_fields
    from customers.tax_ids.validation import validate_tax_id

    def rate(check) -> float:
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < min_seconds:
            for tax, value in pairs:
                check(tax, value)
            done += len(pairs)
        return done / elapsed

    return rate(validate_tax_id), rate(lambda tax, value: check_fields(tax, value, country="FR"))


def grow_to(total: int, *, distinct: int | None = None, rng_seed: int = 7) -> float:
    """Insert customers and tax IDs until there are `total` tax IDs; returns the seconds taken.

    `distinct` tax IDs (all by default) come from the sandbox's generator (realistic numbers, ~8% with
    a typo) and are validated; any rest repeats them on new customers. Rows go in by executemany.
    """
    distinct = total if distinct is None else distinct
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from customers.models import Customer, TaxId
    from customers.tax_ids.countries import customer_country
    from customers.tax_ids.services import check_fields
    from sandbox import seed

    started = time.perf_counter()
    rng = random.Random(rng_seed)
    reviewer = get_user_model().objects.create(username="bench-reviewer")
    workspace, segments = str(uuid.UUID(int=rng.getrandbits(128))), [str(uuid.uuid4()) for _ in range(5)]
    weights = [country.weight for country in seed.COUNTRIES]
    base: list[tuple[dict, list[dict]]] = []  # (customer, its tax ID columns)
    generated = 0
    while generated < distinct:
        country = rng.choices(seed.COUNTRIES, weights=weights)[0]
        data, _ = seed.make_customer(rng, len(base), country, workspace, segments)
        pairs = [(item["tax"], item["tax_value"]) for item in data["tax_ids"]]
        if pairs:
            hint = customer_country(pairs)
            rows = [{"tax": t, "tax_value": v, **check_fields(t, v, country=hint)} for t, v in pairs]
            base.append((data, rows))
            generated += len(rows)

    now = timezone.now()
    customers, tax_ids = [], []
    count, copy = TaxId.objects.count(), 0
    while count < total:
        copy += 1
        for data, rows in base:
            if count >= total:
                break
            customer_id = uuid.uuid4()
            customers.append({"id": customer_id, "name": f"{data['name']} {copy}", "type": data["type"]})
            for position, columns in enumerate(rows[: total - count]):
                review = {}
                if rng.random() < 0.25:  # a quarter already decided
                    decision = rng.choice((TaxId.Review.APPROVED, TaxId.Review.REJECTED))
                    review = {"review_status": decision, "reviewed_by_id": reviewer.pk, "reviewed_at": now}
                tax_ids.append({"customer_id": customer_id, "position": position, **columns, **review})
                count += 1
    template = Customer(name="", created_at=now, updated_at=now, last_synced={})
    _insert(Customer, template, customers)
    _insert(TaxId, TaxId(customer_id=uuid.uuid4()), tax_ids)
    return time.perf_counter() - started


def _insert(model, template, rows: list[dict], *, batch: int = 5000) -> None:
    """INSERT `rows` (column values by attname) with every other column as on `template`, by executemany."""
    from django.db import connection, transaction

    # Every column but an auto-increment id, which the database numbers.
    fields = [field for field in model._meta.concrete_fields if not getattr(field, "db_returning", False)]
    defaults = {field.attname: field.get_db_prep_save(getattr(template, field.attname), connection) for field in fields}
    by_name = {field.attname: field for field in fields}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            values = []
            for row in rows[start : start + batch]:
                prepared = dict(defaults)
                for name, value in row.items():
                    prepared[name] = by_name[name].get_db_prep_save(value, connection)
                values.append([prepared[field.attname] for field in fields])
            cursor.executemany(sql, values)


def measure(client, url: str, *, requests: int) -> tuple[float, float, int, int]:
    """p50 and p95 server time (ms) over `requests` GETs, the query count of one more, and the rows shown."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates, caches
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return percentile(times, 50), percentile(times, 95), len(queries), response.content.count(b'<tr id="taxid-')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-customers", type=int, default=300, help="the demo data's size (make run seeds 300)")
    parser.add_argument("--tax-ids", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60, help="per measure; at least 50")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="validation timing per measure")
    args = parser.parse_args()
    if args.requests < 50:
        parser.error("--requests must be at least 50")

    sandbox = scratch_backoffice(customers=args.demo_customers, settings={"ALLOWED_HOSTS": "testserver", **PRODUCTION})
    production_static_files()
    try:
        from django.db import connection
        from django.test import Client

        from customers.models import TaxId
        from tests import factories

        # 1. Validation throughput over the demo data.
        pairs = list(TaxId.objects.order_by("pk").values_list("tax", "tax_value"))
        bare, stored = validation_throughput(pairs, min_seconds=args.min_seconds)
        invalid = TaxId.objects.filter(validation_status="invalid").count()
        print(f"bench-taxids on {connection.vendor}")
        print(
            f"demo data: {args.demo_customers} customers, {len(pairs)} tax IDs "
            f"({invalid} invalid), each validated for >= {args.min_seconds:.0f} s"
        )
        print(f"  validate_tax_id (python-stdnum):           {bare:>10,.0f} tax IDs/s")
        print(f"  stored verdict (check_fields, with hint):  {stored:>10,.0f} tax IDs/s")

        # 2. The review page with 100,000 tax IDs.
        seconds = grow_to(args.tax_ids)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load, so plans use the indexes
        total = TaxId.objects.count()
        invalid = TaxId.objects.filter(validation_status="invalid").count()
        print(f"scratch database: {total:,} tax IDs ({invalid:,} invalid), inserted and validated in {seconds:.1f} s")

        client = Client()
        client.force_login(factories.UserFactory(role="Managers"))
        sirens = TaxId.objects.filter(tax="SIREN", validation_status="valid").order_by("pk")
        sample = sirens[sirens.count() // 2]
        number = sample.normalised
        measures = [
            ("page 1 (failing first)", "/tax-ids/"),
            ("invalid only", "/tax-ids/?validation=invalid"),
            (f"search a SIREN ({number})", f"/tax-ids/?q={number}"),
            (f"search part of one ({number[:5]})", f"/tax-ids/?q={number[:5]}"),
            ("search a common word (Meridian)", "/tax-ids/?q=Meridian"),
            ("search a customer's name", f"/tax-ids/?{urlencode({'q': sample.customer.name})}"),
        ]
        print(f"review page, full page as a manager, 25 rows, {args.requests} requests each; server time in ms")
        print(f"(the customer's name searched: {sample.customer.name!r})")
        header = f"{'measure':<34} {'p50':>7} {'p95':>7} {'queries':>8} {'rows':>5}"
        print(header)
        print("-" * len(header))
        worst = 0.0
        for label, url in measures:
            p50, p95, queries, rows = measure(client, url, requests=args.requests)
            worst = max(worst, p95)
            print(f"{label:<34} {p50:>7.1f} {p95:>7.1f} {queries:>8} {rows:>5}")
        verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
        print(f"worst p95 {worst:.1f} ms: target p95 <= {TARGET_P95_MS} ms {verdict}")
        return 0
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
