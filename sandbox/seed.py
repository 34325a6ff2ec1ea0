"""Deterministic demo data: customers, their contacts, and catalogs.

Everything, uuids and timestamps included, comes from one `random.Random(seed)`
so a given seed always yields the same workspace: tests can rely on it and a
demo looks the same after every reset. Timestamps lie before SEED_END, so any
edit made later is newer than the seeded data.
"""

import random
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

from sandbox import taxids
from sandbox.validation import ROLES

SEED_START = datetime(2024, 1, 1, tzinfo=UTC)
SEED_END = datetime(2026, 3, 1, tzinfo=UTC)

FIRST_NAMES = {
    "fr": ("Camille", "Julien", "Chloé", "Mathieu", "Élodie", "Nicolas", "Inès", "Thomas", "Margaux", "Hugo"),
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Maximilian", "Hannah", "Jürgen", "Katrin"),
    "es": ("Lucía", "Javier", "María", "Sergio", "Carmen", "Diego", "Sofía", "Pablo", "Valentina", "Andrés"),
    "it": ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Alessia", "Davide", "Sara", "Lorenzo"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lars", "Fleur", "Bram", "Noor", "Thijs", "Sanne"),
    "pt": ("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Gabriel", "Larissa", "Rafael", "Fernanda"),
    "en": ("James", "Olivia", "Michael", "Emily", "Daniel", "Grace", "Ryan", "Megan", "Kevin", "Laura"),
}
LAST_NAMES = {
    "fr": ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fontaine", "Chevalier"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Wagner", "Keller", "Braun"),
    "es": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Rojas", "Muñoz"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
    "nl": ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Peeters", "Maes", "Claes"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Carvalho", "Ribeiro", "Gomes"),
    "en": ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Walker", "Hall"),
}
COMPANY_WORDS = (
    "Andes", "Atlántica", "Boreal", "Cordillera", "Delta", "Estrella", "Faro", "Granit", "Horizonte", "Iris",
    "Lumen", "Meridian", "Nordwind", "Orion", "Pampa", "Quetzal", "Rivage", "Sierra", "Solaris", "Tramontana",
    "Vértice", "Volcán", "Azur", "Kestrel", "Nova", "Pacífico", "Alpina", "Cobalt", "Saphir", "Tierra",
)  # fmt: skip
COMPANY_TRADES = (
    "Logística", "Consulting", "Distribution", "Industrie", "Tecnologia", "Alimentos", "Energía", "Pharma",
    "Textil", "Transportes", "Software", "Agro", "Ingeniería", "Médical", "Import Export",
)  # fmt: skip


class Country:
    """What makes a customer look local: language, legal forms, web and phone conventions."""

    def __init__(self, code, weight, language, legal_forms, tld, phone):
        self.code, self.weight, self.language = code, weight, language
        self.legal_forms, self.tld, self.phone = legal_forms, tld, phone


# `phone` is a template: every "#" becomes a random digit.
COUNTRIES = (
    Country("FR", 20, "fr", ("SAS", "SARL", "SA"), "fr", "+33 6 ## ## ## ##"),
    Country("DE", 8, "de", ("GmbH", "AG", "KG"), "de", "+49 15# ########"),
    Country("ES", 10, "es", ("S.L.", "S.A."), "es", "+34 6## ## ## ##"),
    Country("IT", 8, "it", ("S.r.l.", "S.p.A."), "it", "+39 3## ### ####"),
    Country("BE", 5, "nl", ("BV", "SRL", "NV"), "be", "+32 47# ## ## ##"),
    Country("NL", 5, "nl", ("B.V.", "N.V."), "nl", "+31 6 ########"),
    Country("CL", 10, "es", ("SpA", "Ltda.", "S.A."), "cl", "+56 9 #### ####"),
    Country("AR", 8, "es", ("S.A.", "S.R.L."), "com.ar", "+54 9 11 ####-####"),
    Country("BR", 10, "pt", ("Ltda.", "S.A."), "com.br", "+55 11 9####-####"),
    Country("CO", 6, "es", ("S.A.S.", "Ltda."), "com.co", "+57 3## ### ####"),
    Country("MX", 7, "es", ("S.A. de C.V.", "S. de R.L."), "com.mx", "+52 55 #### ####"),
    Country("PE", 5, "es", ("S.A.C.", "S.R.L."), "pe", "+51 9## ### ###"),
    Country("US", 3, "en", ("Inc.", "LLC"), "com", "+1 415 555 0###"),
)

CATALOGS = (
    ("Spring 2026", True, "New arrivals and seasonal offers for spring."),
    ("Summer 2026", True, "Summer range, available for pre-order."),
    ("Autumn 2025", True, "Autumn collection and end-of-year bundles."),
    ("Winter 2024", False, "Last winter's range, kept for reorders of existing quotes."),
    ("Enterprise Services", True, "Implementation, integration and dedicated support for large accounts."),
    ("SMB Starter", True, "Entry packages for small and medium businesses."),
    ("LatAm Distributors", True, "Price list for distributors in Latin America, in USD."),
    ("EU Wholesale", True, "Wholesale prices for European resellers, in EUR."),
    ("Spare Parts", True, "Replacement parts and consumables."),
    ("Training & Onboarding", True, "On-site and remote training sessions."),
    ("Premium Support", True, "Extended hours support and guaranteed response times."),
    ("Legacy Products", False, "Discontinued products still under maintenance contracts."),
)


def generate(seed: int = 42, customers: int = 300) -> dict[str, list[dict]]:
    """The demo workspace: {"customer": [...], "contact": [...], "catalog": [...]}."""
    rng = random.Random(seed)
    workspace_id = new_uuid(rng)
    segments = [new_uuid(rng) for _ in range(5)]
    data = {"customer": [], "contact": [], "catalog": []}
    for number in range(1, customers + 1):
        country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
        customer, email_domain = make_customer(rng, number, country, workspace_id, segments)
        data["customer"].append(customer)
        data["contact"].extend(make_contacts(rng, customer, country, email_domain))
    for number, (name, active, description) in enumerate(CATALOGS, start=1):
        data["catalog"].append(make_catalog(rng, number, name, active, description))
    return data


def make_customer(
    rng: random.Random, number: int, country: Country, workspace_id: str, segments: list[str]
) -> tuple[dict, str]:
    """A customer, and the email domain its contacts use."""
    customer_type = "company" if rng.random() < 0.7 else "individual"
    if customer_type == "company":
        base = company_base_name(rng, country)
        name = f"{base} {rng.choice(country.legal_forms)}"
        email_domain = f"{slug(base, '-')}.{country.tld}"
    else:
        name = f"{rng.choice(FIRST_NAMES[country.language])} {rng.choice(LAST_NAMES[country.language])}"
        email_domain = rng.choice(("gmail.com", "outlook.com", "yahoo.com", "proton.me"))
    created, updated = timestamps(rng, SEED_START)
    customer = {
        "id": new_uuid(rng),
        "workspace_id": workspace_id,
        "name": name,
        "type": customer_type,
        "segment_id": rng.choice(segments) if rng.random() < 0.8 else None,
        "logo": maybe(rng, 0.6, f"https://logos.example.com/{slug(name, '-')}.png")
        if customer_type == "company"
        else None,
        "tax_ids": tax_ids(rng, country.code, customer_type),
        "id_crm": maybe(rng, 0.7, f"CRM-{number:06d}"),
        "id_erp": maybe(rng, 0.5, f"ERP-{number:06d}"),
        "id_accounting": maybe(rng, 0.4, f"ACC-{number:06d}"),
        "address_ids": [new_uuid(rng) for _ in range(rng.randint(0, 2))],
        "created_at": created,
        "updated_at": updated,
    }
    return customer, email_domain


def tax_ids(rng: random.Random, country: str, customer_type: str) -> list[dict]:
    """0-3 of the customer's plausible tax IDs, about 8% of them with a typo."""
    options = taxids.candidates(rng, country, customer_type)
    wanted = rng.choices((0, 1, 2, 3), weights=(8, 42, 30, 20) if customer_type == "company" else (40, 60, 0, 0))[0]
    chosen = options[: min(wanted, len(options))]
    for item in chosen:
        if rng.random() < 0.08:
            item["tax_value"] = taxids.corrupt(rng, item["tax"], item["tax_value"])
    return chosen


def make_contacts(rng: random.Random, customer: dict, country: Country, email_domain: str) -> list[dict]:
    """1-4 contacts; an individual customer is its own first contact."""
    contacts = []
    created = customer["created_at"]
    for index in range(rng.randint(1, 4)):
        if index == 0 and customer["type"] == "individual":
            first, last = customer["name"].split(" ", 1)
        else:
            first, last = rng.choice(FIRST_NAMES[country.language]), rng.choice(LAST_NAMES[country.language])
        created, updated = timestamps(rng, parse(created))
        number = rng.randint(1, 999_999)
        contacts.append(
            {
                "id": new_uuid(rng),
                "customer_id": customer["id"],
                "first_name": first,
                "last_name": last,
                "email": maybe(rng, 0.95, f"{slug(first, '')}.{slug(last, '')}@{email_domain}"),
                "phone": maybe(rng, 0.9, "".join(str(rng.randint(0, 9)) if c == "#" else c for c in country.phone)),
                "role": rng.sample(ROLES, rng.choices((0, 1, 2, 3), weights=(15, 45, 28, 12))[0]),
                "id_crm": maybe(rng, 0.6, f"CRM-C{number:06d}"),
                "id_erp": maybe(rng, 0.3, f"ERP-C{number:06d}"),
                "id_accounting": maybe(rng, 0.2, f"ACC-C{number:06d}"),
                "created_at": created,
                "updated_at": updated,
            }
        )
    return contacts


def make_catalog(rng: random.Random, number: int, name: str, active: bool, description: str) -> dict:
    created, updated = timestamps(rng, SEED_START)
    return {
        "id": new_uuid(rng),
        "name": name,
        "api_name": "catalog_" + slug(name),
        "reference": f"CAT-{number:03d}",
        "description": description,
        "is_active": active,
        "id_crm": maybe(rng, 0.3, f"CRM-CAT-{number:03d}"),
        "id_erp": maybe(rng, 0.6, f"ERP-CAT-{number:03d}"),
        "id_accounting": maybe(rng, 0.2, f"ACC-CAT-{number:03d}"),
        "created_at": created,
        "updated_at": updated,
    }


def company_base_name(rng: random.Random, country: Country) -> str:
    """A company name without its legal form: "Andes Logística", "Rossi & Greco"."""
    surnames = LAST_NAMES[country.language]
    style = rng.random()
    if style < 0.4:
        return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_TRADES)}"
    if style < 0.7:
        first, second = rng.sample(surnames, 2)
        return f"{first} & {second}"
    return f"{rng.choice(surnames)} {rng.choice(COMPANY_TRADES)}"


def timestamps(rng: random.Random, after: datetime) -> tuple[str, str]:
    """A creation time between `after` and SEED_END, and an update time after it."""
    span = int((SEED_END - after).total_seconds())
    created = after + timedelta(seconds=rng.randint(0, max(span // 2, 0)))
    updated = created + timedelta(seconds=rng.randint(0, int((SEED_END - created).total_seconds())))
    return iso(created), iso(updated)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with "Z", microseconds only when there are any."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def maybe(rng: random.Random, probability: float, value):
    return value if rng.random() < probability else None


def slug(text: str, separator: str = "_") -> str:
    """ASCII lowercase words joined by `separator`: "Spring 2026" -> "spring_2026"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return separator.join(words)
