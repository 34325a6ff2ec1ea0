"""Realistic tax IDs for the demo data, valid or deliberately broken.

Managers review tax IDs, so the seed needs numbers that look real and pass (or,
on purpose, fail) the same python-stdnum checks the back office runs. Each
generator builds a random stem, completes it with stdnum's check digits and
returns the number in its usual printed form. Qwoty itself never checks them.
"""

import random
import string

from stdnum import luhn
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.es import cif, dni
from stdnum.eu import vat
from stdnum.fr import siren, siret
from stdnum.iso7064 import mod_11_10
from stdnum.mx import rfc
from stdnum.nl import bsn
from stdnum.pe import ruc
from stdnum.us import ein

TAX_TYPES = ("VAT", "SIREN", "SIRET", "RUT", "CUIT", "CNPJ", "CPF", "NIT", "RFC", "RUC", "EIN")

VALIDATORS = {
    "VAT": vat.is_valid,
    "SIREN": siren.is_valid,
    "SIRET": siret.is_valid,
    "RUT": rut.is_valid,
    "CUIT": cuit.is_valid,
    "CNPJ": cnpj.is_valid,
    "CPF": cpf.is_valid,
    "NIT": nit.is_valid,
    "RFC": lambda value: rfc.is_valid(value, validate_check_digits=True),
    "RUC": ruc.is_valid,
    "EIN": ein.is_valid,
}

# EIN prefixes the IRS never assigned: an EIN has no check digit, so a bad prefix is its typo.
UNASSIGNED_EIN_PREFIXES = ("07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "97")


def is_valid(tax: str, value: str) -> bool:
    """Whether stdnum accepts `value` as a `tax` number (VAT for any EU country)."""
    validator = VALIDATORS.get(tax)
    return bool(validator and validator(value))


def digits(rng: random.Random, count: int) -> str:
    """`count` random digits, the first one not zero."""
    return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(count - 1))


def fr_siren(rng: random.Random) -> str:
    stem = digits(rng, 8)
    return stem + luhn.calc_check_digit(stem)


def fr_vat(siren_number: str) -> str:
    return f"FR{int(siren_number + '12') % 97:02d}{siren_number}"


def fr_siret(rng: random.Random, siren_number: str) -> str:
    stem = siren_number + f"{rng.randint(1, 99):04d}"
    return siret.format(stem + luhn.calc_check_digit(stem))


def de_vat(rng: random.Random, customer_type: str) -> str:
    stem = digits(rng, 8)
    return "DE" + stem + mod_11_10.calc_check_digit(stem)


def es_vat(rng: random.Random, customer_type: str) -> str:
    if customer_type == "individual":
        stem = f"{rng.randint(10_000_000, 79_999_999)}"
        return "ES" + stem + dni.calc_check_digit(stem)
    stem = rng.choice("AB") + f"{rng.randint(0, 9_999_999):07d}"
    return "ES" + stem + cif.calc_check_digits(stem)[0]


def it_vat(rng: random.Random, customer_type: str) -> str:
    stem = f"{rng.randint(1, 9_999_999):07d}{rng.randint(1, 100):03d}"
    return "IT" + stem + luhn.calc_check_digit(stem)


def be_vat(rng: random.Random, customer_type: str) -> str:
    stem = "0" + digits(rng, 7)
    return f"BE{stem}{97 - int(stem) % 97:02d}"


def nl_vat(rng: random.Random, customer_type: str) -> str:
    while True:
        stem = digits(rng, 8)
        check = sum((9 - i) * int(n) for i, n in enumerate(stem)) % 11
        if check < 10 and bsn.is_valid(stem + str(check)):
            return f"NL{stem}{check}B01"


def cl_rut(rng: random.Random, customer_type: str) -> str:
    low, high = (76_000_000, 77_999_999) if customer_type == "company" else (8_000_000, 24_999_999)
    stem = str(rng.randint(low, high))
    return rut.format(stem + rut.calc_check_digit(stem))


def ar_cuit(rng: random.Random, customer_type: str) -> str:
    prefix = rng.choice(("30", "33") if customer_type == "company" else ("20", "27"))
    stem = prefix + digits(rng, 8)
    return cuit.format(stem + cuit.calc_check_digit(stem))


def br_cnpj(rng: random.Random) -> str:
    stem = digits(rng, 8) + "0001"
    return cnpj.format(stem + cnpj.calc_check_digits(stem))


def br_cpf(rng: random.Random) -> str:
    stem = digits(rng, 9)
    # stdnum keeps the CPF calculator private: find the two digits its validator accepts.
    check = next(f"{n:02d}" for n in range(100) if cpf.is_valid(stem + f"{n:02d}"))
    return cpf.format(stem + check)


def co_nit(rng: random.Random, customer_type: str) -> str:
    stem = rng.choice("89") + digits(rng, 8) if customer_type == "company" else digits(rng, 10)
    return nit.format(stem + nit.calc_check_digit(stem))


def mx_rfc(rng: random.Random, customer_type: str) -> str:
    letters = 3 if customer_type == "company" else 4
    while True:
        stem = (
            "".join(rng.choice(string.ascii_uppercase) for _ in range(letters))
            + f"{rng.randint(60, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            + rng.choice("123456789ABCDEFGHJKLMNPRSTUV")
            + rng.choice("123456789ABCDEFGHJKLMNPRSTUVWXYZ")
        )
        value = stem + rfc.calc_check_digit(stem)
        if is_valid("RFC", value):  # rejects the few forbidden four-letter words
            return value


def pe_ruc(rng: random.Random, customer_type: str) -> str:
    stem = ("20" if customer_type == "company" else "10") + digits(rng, 8)
    return stem + ruc.calc_check_digit(stem)


def us_ein(rng: random.Random) -> str:
    prefix = rng.choice(("12", "20", "27", "36", "45", "46", "82", "84", "94"))
    return f"{prefix}-{rng.randint(0, 9_999_999):07d}"


def candidates(rng: random.Random, country: str, customer_type: str) -> list[dict]:
    """The tax IDs such a customer would plausibly hold, most common first."""
    company = customer_type == "company"
    if country == "FR":
        number = fr_siren(rng)
        if not company:
            return [pair("SIREN", siren.format(number))]  # sole traders (auto-entrepreneurs)
        return [pair("VAT", fr_vat(number)), pair("SIREN", siren.format(number)), pair("SIRET", fr_siret(rng, number))]
    if country in EU_VAT:
        return [pair("VAT", EU_VAT[country](rng, customer_type))] if company or country == "ES" else []
    if country == "BR":
        return [pair("CNPJ", br_cnpj(rng))] if company else [pair("CPF", br_cpf(rng))]
    if country == "US":
        return [pair("EIN", us_ein(rng))] if company else []
    tax, make = LATAM[country]
    return [pair(tax, make(rng, customer_type))]


LATAM = {
    "CL": ("RUT", cl_rut),
    "AR": ("CUIT", ar_cuit),
    "CO": ("NIT", co_nit),
    "MX": ("RFC", mx_rfc),
    "PE": ("RUC", pe_ruc),
}
EU_VAT = {"DE": de_vat, "ES": es_vat, "IT": it_vat, "BE": be_vat, "NL": nl_vat}


def pair(tax: str, tax_value: str) -> dict:
    return {"tax": tax, "tax_value": tax_value}


def corrupt(rng: random.Random, tax: str, value: str) -> str:
    """The same number with a typo that stdnum rejects: a wrong check digit (an EIN: a bad prefix)."""
    if tax == "EIN":
        return rng.choice(UNASSIGNED_EIN_PREFIXES) + value[2:]
    position = {"VAT": 3 if value.startswith("FR") else -1, "RFC": -1}.get(tax, -1)
    if value.startswith("NL"):
        position = 10  # the BSN check digit, before "B01"
    while True:
        replacement = rng.choice(string.digits + ("K" if tax == "RUT" else ""))
        broken = value[:position] + replacement + (value[position + 1 :] if position != -1 else "")
        if not is_valid(tax, broken):
            return broken
