"""Contacts' phone numbers, parsed and printed with phonenumbers.

Qwoty shows phones in the international format ("+33 6 99 88 77 66") and Koywe rejects a
phone that is not valid for its country, so staff must see the problem in the form, before
anything is sent.
"""

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

MISSING_COUNTRY = "Add the country code (e.g. +33) or set the customer's country"


@dataclass(frozen=True)
class PhoneCheck:
    """The verdict on one phone number; the formats are set only for a valid number."""

    valid: bool
    e164: str | None = None
    international: str | None = None
    error: str | None = None
    extension: str | None = None

    @property
    def stored(self) -> str | None:
        """What a contact keeps: E.164, with the extension when there is one (E.164 itself has no room for it)."""
        return f"{self.e164} ext. {self.extension}" if self.extension else self.e164


def parse_phone(value: str, *, region: str | None = None) -> PhoneCheck:
    """Parse `value`, a number in any usual form, read as dialled from `region` when it has no "+".

    `region` is an ISO alpha-2 code, typically the customer's country.
    """
    if not value.strip():
        return PhoneCheck(valid=False, error="Empty value")
    try:
        number = phonenumbers.parse(value, region.upper() if region else None)
    except NumberParseException as error:
        if error.error_type != NumberParseException.INVALID_COUNTRY_CODE:
            return PhoneCheck(valid=False, error="Not a phone number")
        # phonenumbers gives the same error for no region and for an unknown "+" code.
        has_country_code = value.lstrip().startswith(("+", "\uff0b"))
        return PhoneCheck(valid=False, error="Unknown country code" if has_country_code else MISSING_COUNTRY)
    if not phonenumbers.is_valid_number(number):
        country = phonenumbers.region_code_for_country_code(number.country_code)
        return PhoneCheck(valid=False, error=f"Not a valid number for {country}")
    return PhoneCheck(
        valid=True,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        international=phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        extension=number.extension or None,
    )


@lru_cache(maxsize=4096)
def display_phone(value: str | None) -> str:
    """A stored number in the international format, or unchanged when it is not a valid number.

    Data from upstream is shown as it is rather than silently altered. Remembered: parsing costs more than
    the rest of a list row, and a list shows the same numbers again on every refresh after a quick action.
    """
    if value is None:
        return ""
    return parse_phone(value).international or value
