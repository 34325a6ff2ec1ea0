"""Checks of customers' tax IDs with python-stdnum.

Qwoty stores tax IDs without checking them, so managers must spot the broken ones here.
Pure functions: no database and no network (VIES is not queried), so they can run on every
form, list row and import. Every check is stdnum's; this module only picks the right one
and turns its exceptions into text a manager can act on.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, Literal, NamedTuple

from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.ch import vat as ch_vat
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import siren, siret
from stdnum.gb import vat as gb_vat
from stdnum.mx import rfc
from stdnum.no import mva
from stdnum.pe import ruc
from stdnum.us import ein

Status = Literal["valid", "invalid", "unknown"]


@dataclass(frozen=True, kw_only=True)
class TaxIdCheck:
    """The verdict on one tax ID, with its canonical and printed forms."""

    status: Status
    reason: str | None = None
    country: str | None = None
    normalised: str | None = None
    formatted: str | None = None
    value: str = field(default="", repr=False)  # the input, to tell whether normalising changes it

    @property
    def suggestion(self) -> str | None:
        """The canonical form to store instead, when the value is valid but written differently.

        Reformatting an invalid number would not fix it, so none is offered then.
        """
        if self.status == "valid" and self.normalised != self.value:
            return self.normalised
        return None


class _Rule(NamedTuple):
    """How to check one kind of identifier: the stdnum module, its country, extra `validate()` arguments."""

    module: ModuleType
    country: str
    options: Mapping[str, Any] = MappingProxyType({})
    prefix: str = ""  # VAT only: what goes in front of a number written without its country prefix


_RULES: dict[str, _Rule] = {
    "SIREN": _Rule(siren, "FR"),
    "SIRET": _Rule(siret, "FR"),
    "RUT": _Rule(rut, "CL"),
    "CUIT": _Rule(cuit, "AR"),
    "CNPJ": _Rule(cnpj, "BR"),
    "CPF": _Rule(cpf, "BR"),
    "NIT": _Rule(nit, "CO"),
    # Without the flag stdnum checks only the shape and the date, so a mistyped RFC passes.
    "RFC": _Rule(rfc, "MX", {"validate_check_digits": True}),
    "RUC": _Rule(ruc, "PE"),
    "EIN": _Rule(ein, "US"),
}

_EU_VAT_PREFIXES = (
    *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "HR", "HU", "IE"),
    *("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
)
# VAT prefix (the first two letters of the number) -> rule; Greece is EL, Northern Ireland XI.
_VAT_RULES: dict[str, _Rule] = {
    **{prefix: _Rule(eu_vat, prefix, prefix=prefix) for prefix in _EU_VAT_PREFIXES},
    "EL": _Rule(eu_vat, "GR", prefix="EL"),
    "XI": _Rule(eu_vat, "GB", prefix="XI"),
    "GB": _Rule(gb_vat, "GB", prefix="GB"),
    "CH": _Rule(ch_vat, "CH", prefix="CHE"),
    "NO": _Rule(mva, "NO", prefix="NO"),
}
# Every country a check can tell (the review list's country filter offers these).
CHECKED_COUNTRIES = tuple(sorted({rule.country for rule in (*_RULES.values(), *_VAT_RULES.values())}))

# ISO codes people write where the VAT prefix differs (and the `country` argument is ISO).
_VAT_PREFIX_FOR = {"GR": "EL"}
_EU_VAT_RULE_KEYS = {*_EU_VAT_PREFIXES, "EL", "XI"}

# Local names for the same VAT; "IVA" only with an EU prefix, as it is also Latin America's sales tax.
_TAX_ALIASES = {"TVA": "VAT", "USTIDNR": "VAT"}

_REASONS = {
    InvalidLength: "Wrong length",
    InvalidChecksum: "Bad check digit",
    InvalidComponent: "Invalid component",
    InvalidFormat: "Invalid format",
}

_SEPARATORS = re.compile(r"[\s.\-/\u2010-\u2015]")  # also the typographic dashes of pasted text


def compact(value: str) -> str:
    """The value without the spaces, dots, dashes and slashes people type, in upper case."""
    return _SEPARATORS.sub("", value).upper()


def validate_tax_id(tax: str, value: str, *, country: str | None = None) -> TaxIdCheck:
    """Check `value` as a `tax` identifier (e.g. "VAT", "SIREN", "RUT") with python-stdnum.

    `country` (ISO alpha-2) completes a VAT written without its country prefix. A tax type we
    have no check for gives status "unknown", never "invalid": we cannot tell it is wrong.
    """
    kind = _tax_kind(tax, value)
    if kind is None:
        return TaxIdCheck(status="unknown", reason=f"Cannot check tax type {tax.strip()}", value=value)
    if not value.strip():
        return TaxIdCheck(status="invalid", reason="Empty value", value=value)
    number = compact(value)
    if kind == "VAT":
        rule, number = _vat_rule(number, country)
        if rule is None:
            return TaxIdCheck(status="invalid", reason="Unknown country prefix", normalised=number, value=value)
    else:
        rule = _RULES[kind]
    try:
        normalised = rule.module.validate(number, **rule.options)
    except ValidationError as error:
        reason = _REASONS.get(type(error), "Invalid format")
        return TaxIdCheck(status="invalid", reason=reason, country=rule.country, normalised=number, value=value)
    # Some VAT modules drop the country prefix (GB, NO); the stored form keeps it.
    if rule.prefix and not normalised.startswith(rule.prefix):
        normalised = rule.prefix + normalised
    return TaxIdCheck(
        status="valid",
        country=rule.country,
        normalised=normalised,
        formatted=_printed_form(rule, normalised),
        value=value,
    )


def _tax_kind(tax: str, value: str) -> str | None:
    """The key of the check for a tax type as people write it ("tva", "USt-IdNr"), or None."""
    kind = compact(tax)
    if kind == "IVA":
        letters = compact(value)[:2]
        return "VAT" if _VAT_PREFIX_FOR.get(letters, letters) in _EU_VAT_RULE_KEYS else None
    kind = _TAX_ALIASES.get(kind, kind)
    return kind if kind == "VAT" or kind in _RULES else None


def _vat_rule(number: str, country: str | None) -> tuple[_Rule | None, str]:
    """The rule for a compact VAT number and the number with its canonical prefix.

    The prefix comes from the number; only a number without one falls back to `country`.
    """
    letters = number[:2]
    if letters.isascii() and letters.isalpha():
        prefix = _VAT_PREFIX_FOR.get(letters, letters)
        return _VAT_RULES.get(prefix), prefix + number[2:]
    if country:
        rule = _VAT_RULES.get(_VAT_PREFIX_FOR.get(country.upper(), country.upper()))
        if rule:
            return rule, rule.prefix + number
    return None, number


def _printed_form(rule: _Rule, normalised: str) -> str | None:
    """stdnum's printed form, with the country prefix for a VAT (GB's format() leaves it out)."""
    format_number = getattr(rule.module, "format", None)
    if format_number is None:  # stdnum.eu.vat has none: the compact form is the usual one
        return None
    printed = format_number(normalised)
    if rule.prefix and not printed.startswith(rule.prefix):
        printed = f"{rule.prefix} {printed}"
    return printed


def cross_check(tax_ids: list[tuple[str, str]]) -> list[str]:
    """Inconsistencies between one customer's tax IDs, as messages for the manager.

    A French VAT ends with the company's SIREN, and a SIRET starts with it, so a mismatch
    means one of them belongs to another company (or has a typo that still passes its key).
    """
    by_kind: dict[str, list[str]] = {"VAT": [], "SIREN": [], "SIRET": []}
    for tax, value in tax_ids:
        check = validate_tax_id(tax, value)
        kind = _tax_kind(tax, value)
        if kind == "VAT" and check.country != "FR":
            continue
        if kind in by_kind and check.normalised:
            by_kind[kind].append(check.normalised)
    problems = []
    for siren_number in by_kind["SIREN"]:
        for vat_number in by_kind["VAT"]:
            if vat_number[-9:] != siren_number:
                problems.append(f"French VAT {vat_number} does not match SIREN {siren_number}")
        for siret_number in by_kind["SIRET"]:
            if not siret_number.startswith(siren_number):
                problems.append(f"SIRET {siret_number} does not start with SIREN {siren_number}")
    return problems
