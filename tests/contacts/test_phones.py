import pytest

from contacts.phones import MISSING_COUNTRY, PhoneCheck, display_phone, parse_phone


@pytest.mark.parametrize(
    ("value", "region", "e164", "international"),
    [
        pytest.param("+33 6 99 88 77 66", None, "+33699887766", "+33 6 99 88 77 66", id="fr-mobile-with-plus"),
        pytest.param("+33699887766", "CL", "+33699887766", "+33 6 99 88 77 66", id="plus-wins-over-region"),
        pytest.param("06 99 88 77 66", "FR", "+33699887766", "+33 6 99 88 77 66", id="fr-mobile-with-region"),
        pytest.param("06.99.88.77.66", "fr", "+33699887766", "+33 6 99 88 77 66", id="lower-case-region"),
        pytest.param("0033 6 99 88 77 66", "FR", "+33699887766", "+33 6 99 88 77 66", id="international-prefix"),
        pytest.param("+56 9 6123 4567", None, "+56961234567", "+56 9 6123 4567", id="cl-mobile"),
        pytest.param("9 6123 4567", "CL", "+56961234567", "+56 9 6123 4567", id="cl-mobile-with-region"),
    ],
)
def test_valid_number_gives_e164_and_international_format(value, region, e164, international):
    assert parse_phone(value, region=region) == PhoneCheck(valid=True, e164=e164, international=international)


@pytest.mark.parametrize(
    ("value", "region", "error"),
    [
        pytest.param("06 99 88 77 66", None, MISSING_COUNTRY, id="no-plus-no-region"),
        pytest.param("123", "FR", "Not a valid number for FR", id="too-few-digits"),
        pytest.param("+56 1 2345 6789", None, "Not a valid number for CL", id="cl-unassigned-range"),
        pytest.param("call reception", "FR", "Not a phone number", id="letters"),
        pytest.param("+999 123456", None, "Unknown country code", id="unknown-country-code"),
        pytest.param("", "FR", "Empty value", id="empty"),
        pytest.param("  ", None, "Empty value", id="blank"),
    ],
)
def test_invalid_number_says_why(value, region, error):
    assert parse_phone(value, region=region) == PhoneCheck(valid=False, error=error)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        pytest.param("+33699887766", "+33 6 99 88 77 66", id="e164"),
        pytest.param("+33 (0)6 99-88-77-66", "+33 6 99 88 77 66", id="other-parseable-form"),
        pytest.param("+56961234567", "+56 9 6123 4567", id="chile"),
        pytest.param("06 99 88 77 66", "06 99 88 77 66", id="no-country-code-unchanged"),
        pytest.param("ask Maria, ext 12", "ask Maria, ext 12", id="unparseable-unchanged"),
        pytest.param("+33 123", "+33 123", id="invalid-unchanged"),
        pytest.param("", "", id="empty"),
        pytest.param(None, "", id="none"),
    ],
)
def test_display_phone_formats_stored_numbers_and_leaves_the_rest_alone(stored, shown):
    assert display_phone(stored) == shown


def test_an_extension_is_kept_with_the_number():
    check = parse_phone("+1 (650) 253-0000 ext. 12")
    assert (check.e164, check.extension, check.stored) == ("+16502530000", "12", "+16502530000 ext. 12")
    assert parse_phone(check.stored).stored == check.stored  # reads back the same
    assert parse_phone("+33 6 99 88 77 66").stored == "+33699887766"
