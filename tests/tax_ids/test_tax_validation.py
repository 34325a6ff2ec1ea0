import pytest

from customers.tax_ids.countries import customer_country
from customers.tax_ids.validation import TaxIdCheck, cross_check, validate_tax_id

VALID = "valid"
INVALID = "invalid"
UNKNOWN = "unknown"

# (tax, value, status, reason, country); the valid numbers pass stdnum, the invalid ones are the
# same numbers with one typo unless the id says otherwise.
EXAMPLES = [
    pytest.param("VAT", "FR40303265045", VALID, None, "FR", id="fr-vat"),
    pytest.param("VAT", "FR41303265045", INVALID, "Bad check digit", "FR", id="fr-vat-bad-key"),
    pytest.param("VAT", "FR4030326504", INVALID, "Wrong length", "FR", id="fr-vat-short"),
    pytest.param("VAT", "FR12345678901", INVALID, "Bad check digit", "FR", id="fr-vat-upstream-docs-example"),
    pytest.param("VAT", "DE136695976", VALID, None, "DE", id="de-vat"),
    pytest.param("VAT", "DE136695978", INVALID, "Bad check digit", "DE", id="de-vat-bad"),
    pytest.param("VAT", "DE12345678", INVALID, "Wrong length", "DE", id="de-vat-short"),
    pytest.param("VAT", "ESB64717838", VALID, None, "ES", id="es-vat-company"),
    pytest.param("VAT", "ES54362315K", VALID, None, "ES", id="es-vat-person"),
    pytest.param("VAT", "ESB64717839", INVALID, "Bad check digit", "ES", id="es-vat-bad"),
    pytest.param("VAT", "IT00743110157", VALID, None, "IT", id="it-vat"),
    pytest.param("VAT", "IT00743110158", INVALID, "Bad check digit", "IT", id="it-vat-bad"),
    pytest.param("VAT", "BE0403019261", VALID, None, "BE", id="be-vat"),
    pytest.param("VAT", "BE0431150351", INVALID, "Bad check digit", "BE", id="be-vat-bad"),
    pytest.param("VAT", "NL004495445B01", VALID, None, "NL", id="nl-vat"),
    pytest.param("VAT", "NL123456789B90", INVALID, "Bad check digit", "NL", id="nl-vat-bad"),
    pytest.param("VAT", "PL8567346215", VALID, None, "PL", id="pl-vat"),
    pytest.param("VAT", "PL8567346216", INVALID, "Bad check digit", "PL", id="pl-vat-bad"),
    pytest.param("VAT", "EL094259216", VALID, None, "GR", id="el-vat-greece"),
    pytest.param("VAT", "EL123456781", INVALID, "Bad check digit", "GR", id="el-vat-bad"),
    pytest.param("VAT", "ATU13585627", VALID, None, "AT", id="at-vat"),
    pytest.param("VAT", "ATU13585626", INVALID, "Bad check digit", "AT", id="at-vat-bad"),
    pytest.param("VAT", "SE123456789701", VALID, None, "SE", id="se-vat"),
    pytest.param("VAT", "SE123456789101", INVALID, "Bad check digit", "SE", id="se-vat-bad"),
    pytest.param("VAT", "IE6433435F", VALID, None, "IE", id="ie-vat"),
    pytest.param("VAT", "IE6433435E", INVALID, "Bad check digit", "IE", id="ie-vat-bad"),
    # The other member states (and Northern Ireland's XI), from python-stdnum's own examples.
    pytest.param("VAT", "BG175074752", VALID, None, "BG", id="bg-vat"),
    pytest.param("VAT", "BG175074750", INVALID, "Bad check digit", "BG", id="bg-vat-bad"),
    pytest.param("VAT", "CY10259033P", VALID, None, "CY", id="cy-vat"),
    pytest.param("VAT", "CY10259033Q", INVALID, "Bad check digit", "CY", id="cy-vat-bad"),
    pytest.param("VAT", "CZ25123891", VALID, None, "CZ", id="cz-vat"),
    pytest.param("VAT", "CZ25123890", INVALID, "Bad check digit", "CZ", id="cz-vat-bad"),
    pytest.param("VAT", "DK13585628", VALID, None, "DK", id="dk-vat"),
    pytest.param("VAT", "DK13585620", INVALID, "Bad check digit", "DK", id="dk-vat-bad"),
    pytest.param("VAT", "EE100931558", VALID, None, "EE", id="ee-vat"),
    pytest.param("VAT", "EE100931550", INVALID, "Bad check digit", "EE", id="ee-vat-bad"),
    pytest.param("VAT", "FI20774740", VALID, None, "FI", id="fi-vat"),
    pytest.param("VAT", "FI20774741", INVALID, "Bad check digit", "FI", id="fi-vat-bad"),
    pytest.param("VAT", "HR33392005961", VALID, None, "HR", id="hr-vat"),
    pytest.param("VAT", "HR33392005960", INVALID, "Bad check digit", "HR", id="hr-vat-bad"),
    pytest.param("VAT", "HU12892312", VALID, None, "HU", id="hu-vat"),
    pytest.param("VAT", "HU12892310", INVALID, "Bad check digit", "HU", id="hu-vat-bad"),
    pytest.param("VAT", "LT119511515", VALID, None, "LT", id="lt-vat"),
    pytest.param("VAT", "LT119511516", INVALID, "Bad check digit", "LT", id="lt-vat-bad"),
    pytest.param("VAT", "LU15027442", VALID, None, "LU", id="lu-vat"),
    pytest.param("VAT", "LU15027440", INVALID, "Bad check digit", "LU", id="lu-vat-bad"),
    pytest.param("VAT", "LV40003521600", VALID, None, "LV", id="lv-vat"),
    pytest.param("VAT", "LV40003521601", INVALID, "Bad check digit", "LV", id="lv-vat-bad"),
    pytest.param("VAT", "MT11679112", VALID, None, "MT", id="mt-vat"),
    pytest.param("VAT", "MT11679110", INVALID, "Bad check digit", "MT", id="mt-vat-bad"),
    pytest.param("VAT", "PT501964843", VALID, None, "PT", id="pt-vat"),
    pytest.param("VAT", "PT501964840", INVALID, "Bad check digit", "PT", id="pt-vat-bad"),
    pytest.param("VAT", "RO18547290", VALID, None, "RO", id="ro-vat"),
    pytest.param("VAT", "RO18547291", INVALID, "Bad check digit", "RO", id="ro-vat-bad"),
    pytest.param("VAT", "SI50223054", VALID, None, "SI", id="si-vat"),
    pytest.param("VAT", "SI50223050", INVALID, "Bad check digit", "SI", id="si-vat-bad"),
    pytest.param("VAT", "SK2022749619", VALID, None, "SK", id="sk-vat"),
    pytest.param("VAT", "SK2022749610", INVALID, "Bad check digit", "SK", id="sk-vat-bad"),
    pytest.param("VAT", "XI980780684", VALID, None, "GB", id="xi-northern-ireland-vat"),
    pytest.param("VAT", "XI980780685", INVALID, "Bad check digit", "GB", id="xi-northern-ireland-vat-bad"),
    pytest.param("VAT", "GB980780684", VALID, None, "GB", id="gb-vat"),
    pytest.param("VAT", "GB802311781", INVALID, "Bad check digit", "GB", id="gb-vat-bad"),
    pytest.param("VAT", "GB98078068", INVALID, "Wrong length", "GB", id="gb-vat-short"),
    pytest.param("VAT", "CHE-116.281.710 MWST", VALID, None, "CH", id="ch-vat"),
    pytest.param("VAT", "CHE-116.281.711 MWST", INVALID, "Bad check digit", "CH", id="ch-vat-bad"),
    pytest.param("VAT", "NO 995 525 828 MVA", VALID, None, "NO", id="no-vat"),
    pytest.param("VAT", "NO 995 525 829 MVA", INVALID, "Bad check digit", "NO", id="no-vat-bad"),
    pytest.param("VAT", "NO 995 525 828", INVALID, "Invalid format", "NO", id="no-vat-without-mva"),
    pytest.param("VAT", "XX123456789", INVALID, "Unknown country prefix", None, id="vat-unknown-prefix"),
    pytest.param("VAT", "40303265045", INVALID, "Unknown country prefix", None, id="vat-without-prefix"),
    pytest.param("SIREN", "732829320", VALID, None, "FR", id="siren"),
    pytest.param("SIREN", "123456789", INVALID, "Bad check digit", "FR", id="siren-upstream-docs-example"),
    pytest.param("SIREN", "73282932", INVALID, "Wrong length", "FR", id="siren-short"),
    pytest.param("SIREN", "73282932A", INVALID, "Invalid format", "FR", id="siren-letter"),
    pytest.param("SIRET", "73282932000074", VALID, None, "FR", id="siret"),
    pytest.param("SIRET", "73282932000079", INVALID, "Bad check digit", "FR", id="siret-bad"),
    pytest.param("SIRET", "7328293200007", INVALID, "Wrong length", "FR", id="siret-short"),
    pytest.param("RUT", "76.086.428-5", VALID, None, "CL", id="rut"),
    pytest.param("RUT", "76.086.428-6", INVALID, "Bad check digit", "CL", id="rut-bad"),
    pytest.param("RUT", "76086A28-5", INVALID, "Invalid format", "CL", id="rut-letter"),
    pytest.param("CUIT", "20-26756539-3", VALID, None, "AR", id="cuit"),
    pytest.param("CUIT", "20-26756539-2", INVALID, "Bad check digit", "AR", id="cuit-bad"),
    pytest.param("CUIT", "20-2675653-3", INVALID, "Wrong length", "AR", id="cuit-short"),
    pytest.param("CNPJ", "11.222.333/0001-81", VALID, None, "BR", id="cnpj"),
    pytest.param("CNPJ", "11.222.333/0001-82", INVALID, "Bad check digit", "BR", id="cnpj-bad"),
    pytest.param("CNPJ", "11.222.333/0001-8", INVALID, "Wrong length", "BR", id="cnpj-short"),
    pytest.param("CPF", "390.533.447-05", VALID, None, "BR", id="cpf"),
    pytest.param("CPF", "390.533.447-06", INVALID, "Bad check digit", "BR", id="cpf-bad"),
    pytest.param("CPF", "390.533.447-0", INVALID, "Wrong length", "BR", id="cpf-short"),
    pytest.param("NIT", "213.123.432-1", VALID, None, "CO", id="nit"),
    pytest.param("NIT", "213.123.432-5", INVALID, "Bad check digit", "CO", id="nit-bad"),
    pytest.param("RFC", "MAB-930714-8T4", VALID, None, "MX", id="rfc-company"),
    pytest.param("RFC", "GODE 561231 GR8", VALID, None, "MX", id="rfc-person"),
    # stdnum accepts these two unless asked to validate the check digits.
    pytest.param("RFC", "MAB-930714-8T5", INVALID, "Bad check digit", "MX", id="rfc-bad"),
    pytest.param("RFC", "VACE-460910-SX6", INVALID, "Bad check digit", "MX", id="rfc-person-bad"),
    pytest.param("RFC", "MAB-931314-8T4", INVALID, "Invalid component", "MX", id="rfc-month-13"),
    pytest.param("RFC", "MAB93071", INVALID, "Wrong length", "MX", id="rfc-short"),
    pytest.param("RUC", "20512333797", VALID, None, "PE", id="ruc"),
    pytest.param("RUC", "20512333798", INVALID, "Bad check digit", "PE", id="ruc-bad"),
    pytest.param("RUC", "2051233379", INVALID, "Wrong length", "PE", id="ruc-short"),
    pytest.param("EIN", "91-1144442", VALID, None, "US", id="ein"),
    # An EIN has no check digit: a typo shows only as a prefix the IRS never assigned.
    pytest.param("EIN", "07-1144442", INVALID, "Invalid component", "US", id="ein-unassigned-prefix"),
    pytest.param("EIN", "91-114444", INVALID, "Invalid format", "US", id="ein-short"),
    pytest.param("VAT", "", INVALID, "Empty value", None, id="empty"),
    pytest.param("VAT", "   ", INVALID, "Empty value", None, id="blank"),
]


@pytest.mark.parametrize(("tax", "value", "status", "reason", "country"), EXAMPLES)
def test_validate_tax_id_gives_status_reason_and_country(tax, value, status, reason, country):
    check = validate_tax_id(tax, value)

    assert (check.status, check.reason, check.country) == (status, reason, country)


@pytest.mark.parametrize(
    ("tax", "value"),
    [
        pytest.param("ABN", "51 824 753 556", id="australian-abn"),
        pytest.param("ABN", "", id="empty-value"),
        pytest.param("IVA", "76.086.428-5", id="iva-without-eu-prefix"),
        pytest.param("", "FR40303265045", id="no-type"),
    ],
)
def test_unchecked_tax_type_is_unknown_never_invalid(tax, value):
    check = validate_tax_id(tax, value)

    assert check.status == UNKNOWN
    assert check.reason == f"Cannot check tax type {tax}"
    assert check.normalised is None
    assert check.suggestion is None


@pytest.mark.parametrize(
    ("tax", "value", "country"),
    [
        pytest.param(" vat ", "DE136695976", "DE", id="case-and-spaces"),
        pytest.param("TVA", "FR40303265045", "FR", id="tva"),
        pytest.param("iva", "ESB64717838", "ES", id="iva-with-eu-prefix"),
        pytest.param("USt-IdNr", "DE136695976", "DE", id="ust-idnr"),
        pytest.param("siren", "732 829 320", "FR", id="lower-case-type"),
    ],
)
def test_tax_type_aliases_and_spelling_reach_the_same_check(tax, value, country):
    check = validate_tax_id(tax, value)

    assert (check.status, check.country) == (VALID, country)


@pytest.mark.parametrize(
    ("tax", "value", "normalised", "formatted", "suggestion"),
    [
        pytest.param("VAT", "FR40303265045", "FR40303265045", None, None, id="fr-vat-already-compact"),
        pytest.param("VAT", "fr 40 303 265 045", "FR40303265045", None, "FR40303265045", id="fr-vat-spaced"),
        pytest.param("VAT", "BE403019261", "BE0403019261", None, "BE0403019261", id="be-vat-old-nine-digits"),
        pytest.param("VAT", "GR094259216", "EL094259216", None, "EL094259216", id="greece-iso-code-as-prefix"),
        pytest.param("VAT", "GB 980 7806 84", "GB980780684", "GB 980 7806 84", "GB980780684", id="gb-vat"),
        pytest.param(
            "VAT", "CHE-116.281.710 MWST", "CHE116281710MWST", "CHE-116.281.710 MWST", "CHE116281710MWST", id="ch-vat"
        ),
        pytest.param("VAT", "NO 995 525 828 MVA", "NO995525828MVA", "NO 995 525 828 MVA", "NO995525828MVA", id="no"),
        pytest.param("SIREN", "732829320", "732829320", "732 829 320", None, id="siren"),
        pytest.param("SIRET", "732 829 320 00074", "73282932000074", "732 829 320 00074", "73282932000074", id="siret"),
        pytest.param("RUT", "76.086.428-5", "760864285", "76.086.428-5", "760864285", id="rut"),
        pytest.param("RUT", "760864285", "760864285", "76.086.428-5", None, id="rut-compact"),
        pytest.param("CNPJ", "11.222.333/0001-81", "11222333000181", "11.222.333/0001-81", "11222333000181", id="cnpj"),
        pytest.param("CPF", "39053344705", "39053344705", "390.533.447-05", None, id="cpf"),
        pytest.param("EIN", "91 1144442", "911144442", "91-1144442", "911144442", id="ein-with-space"),
        pytest.param("RUC", "20512333797", "20512333797", None, None, id="ruc-has-no-format"),
    ],
)
def test_valid_numbers_are_normalised_and_formatted(tax, value, normalised, formatted, suggestion):
    check = validate_tax_id(tax, value)

    assert check.status == VALID
    assert (check.normalised, check.formatted, check.suggestion) == (normalised, formatted, suggestion)


def test_invalid_number_is_normalised_but_neither_formatted_nor_suggested():
    check = validate_tax_id("SIREN", "123 456 789")

    assert (check.normalised, check.formatted, check.suggestion) == ("123456789", None, None)


def test_check_is_immutable():
    check = validate_tax_id("SIREN", "732829320")

    with pytest.raises(AttributeError):
        check.status = INVALID  # type: ignore[misc]
    assert isinstance(check, TaxIdCheck)


@pytest.mark.parametrize(
    ("value", "country", "normalised", "expected_country"),
    [
        pytest.param("40303265045", "FR", "FR40303265045", "FR", id="fr"),
        pytest.param("094259216", "GR", "EL094259216", "GR", id="greece-iso-code"),
        pytest.param("995525828MVA", "NO", "NO995525828MVA", "NO", id="no"),
        pytest.param("116281710MWST", "CH", "CHE116281710MWST", "CH", id="ch"),
        pytest.param("DE136695976", "FR", "DE136695976", "DE", id="prefix-wins-over-country"),
    ],
)
def test_vat_without_prefix_uses_the_given_country(value, country, normalised, expected_country):
    check = validate_tax_id("VAT", value, country=country)

    assert (check.status, check.normalised, check.country) == (VALID, normalised, expected_country)


def test_vat_without_prefix_in_a_country_without_vat_check_is_unknown_prefix():
    check = validate_tax_id("VAT", "123456789", country="CL")

    assert (check.status, check.reason) == (INVALID, "Unknown country prefix")


@pytest.mark.parametrize(
    ("tax_ids", "problems"),
    [
        pytest.param(
            [("VAT", "FR40303265045"), ("SIREN", "303 265 045"), ("SIRET", "303 265 045 00011")], [], id="consistent"
        ),
        pytest.param(
            [("VAT", "FR40303265045"), ("SIREN", "732829320")],
            ["French VAT FR40303265045 does not match SIREN 732829320"],
            id="vat-of-another-company",
        ),
        pytest.param(
            [("SIREN", "732829320"), ("SIRET", "30326504500011")],
            ["SIRET 30326504500011 does not start with SIREN 732829320"],
            id="siret-of-another-company",
        ),
        # The upstream docs' example pair: the VAT's SIREN part is 345678901 (after the two-digit key).
        pytest.param(
            [("VAT", "FR12345678901"), ("SIREN", "123456789")],
            ["French VAT FR12345678901 does not match SIREN 123456789"],
            id="upstream-docs-example-pair",
        ),
        pytest.param([("VAT", "DE136695976"), ("SIREN", "732829320")], [], id="non-french-vat-ignored"),
        pytest.param([("VAT", "FR40303265045")], [], id="vat-alone"),
        pytest.param([], [], id="no-tax-ids"),
    ],
)
def test_cross_check_compares_french_identifiers(tax_ids, problems):
    assert cross_check(tax_ids) == problems


@pytest.mark.parametrize(
    ("tax_ids", "country"),
    [
        pytest.param([("VAT", "FR40303265045"), ("SIREN", "303265045")], "FR", id="french-vat"),
        pytest.param([("ABN", "51824753556"), ("RUT", "76.086.428-5")], "CL", id="skips-unknown-type"),
        pytest.param([("CPF", "390.533.447-06")], "BR", id="bad-check-digit-still-tells-country"),
        pytest.param([("VAT", "XX123456789")], None, id="unknown-prefix"),
        pytest.param([], None, id="no-tax-ids"),
    ],
)
def test_customer_country_comes_from_the_first_tax_id_with_one(tax_ids, country):
    assert customer_country(tax_ids) == country
