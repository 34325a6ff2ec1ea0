"""The sandbox's doubles of the secondary targets, Prioticket and Koywe, over real HTTP.

They live in the same server as Qwoty's double, share its faults and request log,
and have their own auth. Tests that change stored contacts use `sandbox` (a reset).
"""

import base64
import json
import re
import time

import pytest
import requests
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.mx import rfc
from stdnum.pe import ruc
from stdnum.us import ein

from sandbox import (
    KOYWE_MERCHANT_ID,
    KOYWE_ORGANIZATION_ID,
    KOYWE_TOKEN,
    PRIOTICKET_CLIENT_ID,
    PRIOTICKET_CLIENT_SECRET,
    SandboxServer,
)
from tests.conftest import TEST_TOKEN

CONTACT_KEYS = {
    "contact_uid", "contact_external_uid", "contact_number", "contact_type", "contact_name_first",
    "contact_name_last", "contact_email", "contact_phone", "contact_mobile", "contact_language",
    "contact_nationality", "contact_gender", "contact_birth_place", "contact_passport", "contact_age",
    "contact_address",
}  # fmt: skip
ADDRESS_KEYS = {
    "name", "street", "city", "postal_code", "region", "country", "country_code", "place_id", "latitude",
    "longitude", "notes",
}  # fmt: skip
# Country, tax ID type, its validator, a valid number and the same with a broken check digit (or date).
TAX_IDS = [
    ("AR", "CUIT", cuit, "20-26756539-3", "20-26756539-4"),
    ("CL", "RUT", rut, "76.086.428-5", "76.086.428-6"),
    ("BR", "CNPJ", cnpj, "11.222.333/0001-81", "11.222.333/0001-82"),
    ("BR", "CPF", cpf, "390.533.447-05", "390.533.447-06"),
    ("CO", "NIT", nit, "800.197.268-4", "800.197.268-5"),
    ("MX", "RFC", rfc, "GODE561231GR8", "GODE561331GR8"),
    ("PE", "RUC", ruc, "20512333797", "20512333798"),
    ("US", "EIN", ein, "04-2103594", "07-2103594"),
]


# Prioticket helpers


def token_request(sandbox, **form) -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": PRIOTICKET_CLIENT_ID} | form
    form.setdefault("client_secret", PRIOTICKET_CLIENT_SECRET)
    form = {name: value for name, value in form.items() if value is not None}
    return requests.post(f"{sandbox.prioticket_url}/oauth2/token", data=form, timeout=5)


def new_token(sandbox) -> str:
    response = token_request(sandbox)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def contact_body(uid: str, **fields) -> dict:
    return {"data": {"contact": {"contact_uid": uid, **fields}}}


def put_contact(sandbox, uid, body=None, token=None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.put(
        f"{sandbox.prioticket_url}/v3/contacts/{uid}",
        json=contact_body(uid) if body is None else body,
        headers=headers,
        timeout=5,
        **kwargs,
    )


def assert_prioticket_error(response, status, code, message_part=""):
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"api_version", "error_code", "error_message"}
    assert (payload["api_version"], payload["error_code"]) == ("3.4.0", code)
    assert message_part in payload["error_message"]


def assert_unauthorized(response):
    assert (response.status_code, response.json()) == (
        401,
        {
            "api_version": "3.4.0",
            "error_code": "AUTHORIZATION_FAILURE",
            "error_message": "Invalid or expired access token",
        },
    )


# Koywe helpers


def koywe_put(sandbox, contact_id="ct_1", body=None, token=KOYWE_TOKEN, organization=None, merchant=None, **kwargs):
    organization = organization or KOYWE_ORGANIZATION_ID
    merchant = merchant or KOYWE_MERCHANT_ID
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{sandbox.koywe_url}/organizations/{organization}/merchants/{merchant}/contacts/{contact_id}"
    if "data" not in kwargs:
        kwargs["json"] = {} if body is None else body
    return requests.put(url, headers=headers, timeout=5, **kwargs)


# Prioticket: OAuth2 token


def test_token_is_issued_for_the_right_credentials_in_the_form_or_basic_auth(sandbox):
    by_form = token_request(sandbox)
    basic = base64.b64encode(f"{PRIOTICKET_CLIENT_ID}:{PRIOTICKET_CLIENT_SECRET}".encode()).decode()
    by_basic = requests.post(
        f"{sandbox.prioticket_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    for response in (by_form, by_basic):
        assert response.status_code == 200, response.text
        payload = response.json()
        assert set(payload) == {"access_token", "token_type", "expires_in"}
        assert (payload["token_type"], payload["expires_in"]) == ("Bearer", 3600)
        assert len(payload["access_token"]) >= 32
    assert by_form.json()["access_token"] != by_basic.json()["access_token"]
    assert sandbox.prioticket_tokens_issued() == 2


@pytest.mark.parametrize(
    "form",
    [
        {"client_secret": "wrong-secret"},
        {"client_id": "someone-else"},
        {"client_secret": None},
        {"client_id": None, "client_secret": None},
    ],
)
def test_token_is_refused_for_wrong_or_missing_credentials(sandbox, form):
    response = token_request(sandbox, **form)
    assert (response.status_code, response.json()) == (
        401,
        {"error": "invalid_client", "error_description": "Client authentication failed"},
    )
    assert sandbox.prioticket_tokens_issued() == 0


def test_token_is_refused_for_a_wrong_basic_auth_secret(sandbox):
    basic = base64.b64encode(f"{PRIOTICKET_CLIENT_ID}:wrong".encode()).decode()
    response = requests.post(
        f"{sandbox.prioticket_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", None])
def test_token_is_refused_for_a_wrong_grant_type(sandbox, grant_type):
    response = token_request(sandbox, grant_type=grant_type)
    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})
    assert sandbox.prioticket_tokens_issued() == 0


# Prioticket: auth on the API


@pytest.mark.parametrize("token", [None, "not-an-issued-token", TEST_TOKEN, KOYWE_TOKEN])
def test_put_without_an_issued_token_is_401(sandbox, token):
    assert_unauthorized(put_contact(sandbox, "c-1", token=token))
    assert sandbox.prioticket_contact("c-1") is None


def test_token_with_zero_ttl_is_expired_at_once(sandbox):
    sandbox.prioticket_token_ttl(0)
    response = token_request(sandbox)
    assert response.json()["expires_in"] == 0
    assert_unauthorized(put_contact(sandbox, "c-1", token=response.json()["access_token"]))


def test_token_expires_after_its_ttl(sandbox):
    sandbox.prioticket_token_ttl(1)
    response = token_request(sandbox)
    assert response.json()["expires_in"] == 1
    token = response.json()["access_token"]
    assert put_contact(sandbox, "c-1", token=token).status_code == 200
    time.sleep(1.1)
    assert_unauthorized(put_contact(sandbox, "c-1", token=token))


def test_revoked_tokens_are_401_and_a_new_one_works(sandbox):
    token = new_token(sandbox)
    assert put_contact(sandbox, "c-1", token=token).status_code == 200
    sandbox.prioticket_revoke_tokens()
    assert_unauthorized(put_contact(sandbox, "c-1", token=token))
    assert put_contact(sandbox, "c-1", token=new_token(sandbox)).status_code == 200
    assert sandbox.prioticket_tokens_issued() == 2


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "60"}, {"seconds": True}, {}, [60]])
def test_bad_token_ttl_setting_is_400(sandbox, body):
    response = requests.post(f"{sandbox.control}/prioticket/token-ttl", json=body, timeout=5)
    assert response.status_code == 400
    assert token_request(sandbox).json()["expires_in"] == 3600


# Prioticket: contacts


def test_put_stores_and_answers_the_complete_contact(sandbox):
    address = {"street": "Av. Providencia 1234", "city": "Santiago", "country_code": "CL", "latitude": -33.42}
    body = contact_body(
        "c-1",
        contact_external_uid="ext-9",
        contact_name_first="Ana",
        contact_email="ana@example.com",
        contact_age=41,
        contact_address=address,
    )
    response = put_contact(sandbox, "c-1", body, token=new_token(sandbox))
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["api_version"] == "3.4.0"
    [contact] = payload["data"]["items"]
    assert set(contact) == CONTACT_KEYS
    assert re.fullmatch(r"PT[0-9]{8}", contact["contact_number"])
    assert contact["contact_type"] == "CONTACT"
    assert (contact["contact_uid"], contact["contact_external_uid"]) == ("c-1", "ext-9")
    assert (contact["contact_name_first"], contact["contact_email"], contact["contact_age"]) == (
        "Ana",
        "ana@example.com",
        41,
    )
    assert contact["contact_name_last"] is None
    assert contact["contact_address"] == {name: None for name in ADDRESS_KEYS} | address
    assert sandbox.prioticket_contact("c-1") == contact | {"order_references": []}


def test_put_overwrites_and_keeps_the_contact_number(sandbox):
    token = new_token(sandbox)
    first = put_contact(
        sandbox,
        "c-1",
        contact_body(
            "c-1", contact_name_first="Ana", contact_email="ana@example.com", contact_address={"city": "Lima"}
        ),
        token=token,
    ).json()["data"]["items"][0]
    second = put_contact(sandbox, "c-1", contact_body("c-1", contact_name_first="Ana María"), token=token)
    stored = second.json()["data"]["items"][0]
    assert (stored["contact_name_first"], stored["contact_email"], stored["contact_address"]) == (
        "Ana María",
        None,
        None,
    )
    assert stored["contact_number"] == first["contact_number"]
    assert sandbox.prioticket_contact("c-1")["contact_email"] is None
    other = put_contact(sandbox, "c-2", token=token).json()["data"]["items"][0]
    assert other["contact_number"] != first["contact_number"]


def test_put_with_address_fields_left_out_sets_them_to_null(sandbox):
    token = new_token(sandbox)
    put_contact(
        sandbox, "c-1", contact_body("c-1", contact_address={"city": "Lima", "street": "Jr. Ucayali 1"}), token=token
    )
    put_contact(sandbox, "c-1", contact_body("c-1", contact_address={"city": "Cusco"}), token=token)
    assert sandbox.prioticket_contact("c-1")["contact_address"] == {name: None for name in ADDRESS_KEYS} | {
        "city": "Cusco"
    }


@pytest.mark.parametrize("body_uid", [None, "c-2", "C-1"])
def test_contact_uid_missing_or_not_the_path_one_is_400(sandbox, body_uid):
    body = {"data": {"contact": {"contact_name_first": "Ana"} | ({"contact_uid": body_uid} if body_uid else {})}}
    response = put_contact(sandbox, "c-1", body, token=new_token(sandbox))
    assert_prioticket_error(response, 400, "VALIDATION_FAILURE", "contact_uid")
    assert sandbox.prioticket_contact("c-1") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact": {"contact_uid": "c-1"}}, "data"),
        ({"data": {"contact": {"contact_uid": "c-1"}}, "meta": {}}, "data"),
        ({"data": {"contacts": [{"contact_uid": "c-1"}]}}, "contact"),
        ({"data": {"contact": ["c-1"]}}, "data.contact"),
        ([{"contact_uid": "c-1"}], "data"),
        (contact_body("c-1", contact_first_name="Ana"), "contact_first_name"),
        (contact_body("c-1", contact_address={"zip": "1000"}), "contact_address.zip"),
        (contact_body("c-1", contact_address="Av. Corrientes 1"), "contact_address"),
        (contact_body("c-1", contact_name_first=7), "contact_name_first"),
        (contact_body("c-1", contact_phone=["+5491122334455"]), "contact_phone"),
        (contact_body("c-1", contact_age="41"), "contact_age"),
        (contact_body("c-1", contact_age=True), "contact_age"),
        (contact_body("c-1", contact_age=41.5), "contact_age"),
        (contact_body("c-1", contact_address={"latitude": "-33.4"}), "latitude"),
        (contact_body("c-1", contact_address={"longitude": False}), "longitude"),
        (contact_body("c-1", contact_address={"city": 3}), "city"),
        (contact_body("c-1", contact_email="ana.example.com"), "contact_email"),
        (contact_body("c-1", contact_email="ana@example"), "contact_email"),
    ],
)
def test_invalid_contact_is_400_naming_the_field(sandbox, body, field):
    response = put_contact(sandbox, "c-1", body, token=new_token(sandbox))
    assert_prioticket_error(response, 400, "VALIDATION_FAILURE", field)
    assert sandbox.prioticket_contact("c-1") is None


def test_body_that_is_not_json_is_400(sandbox):
    response = put_contact(sandbox, "c-1", body=None, token=new_token(sandbox), data=b"{not json")
    assert_prioticket_error(response, 400, "VALIDATION_FAILURE")


def test_nulls_and_numbers_of_the_right_type_are_accepted(sandbox):
    body = contact_body(
        "c-1",
        contact_email=None,
        contact_age=None,
        contact_phone=None,
        contact_address={"latitude": -12, "longitude": -77.03, "notes": None},
    )
    response = put_contact(sandbox, "c-1", body, token=new_token(sandbox))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["items"][0]["contact_address"]["latitude"] == -12


def test_order_references_are_remembered_per_contact(sandbox):
    token = new_token(sandbox)
    plain = put_contact(sandbox, "c-1", token=token).json()
    with_order = put_contact(sandbox, "c-1", token=token, params={"order_reference": "ORD-1"}).json()
    put_contact(sandbox, "c-1", token=token, params={"order_reference": "ORD-2"})
    put_contact(sandbox, "c-2", token=token)
    assert with_order == plain
    assert sandbox.prioticket_contact("c-1")["order_references"] == ["ORD-1", "ORD-2"]
    assert sandbox.prioticket_contact("c-2")["order_references"] == []


def test_unknown_contact_control_is_404(sandbox):
    response = requests.get(f"{sandbox.control}/prioticket/contacts/nobody", timeout=5)
    assert response.status_code == 404


def test_reset_clears_contacts_tokens_count_and_ttl(sandbox):
    sandbox.prioticket_token_ttl(5)
    token = new_token(sandbox)
    put_contact(sandbox, "c-1", token=token, params={"order_reference": "ORD-1"})
    koywe_put(sandbox, "ct_1")
    sandbox.reset()
    assert sandbox.prioticket_contact("c-1") is None
    assert sandbox.koywe_contact("ct_1") is None
    assert sandbox.prioticket_tokens_issued() == 0
    assert_unauthorized(put_contact(sandbox, "c-1", token=token))
    assert token_request(sandbox).json()["expires_in"] == 3600


# Koywe: auth and routing


@pytest.mark.parametrize("token", [None, "wrong", TEST_TOKEN])
def test_koywe_needs_its_token(sandbox, token):
    response = koywe_put(sandbox, token=token, body={"firstName": "Ana"})
    assert (response.status_code, response.json()) == (401, {"statusCode": 401, "message": "Unauthorized"})
    assert sandbox.koywe_contact("ct_1") is None


@pytest.mark.parametrize(("organization", "merchant"), [("org_other", None), (None, "mer_other")])
def test_koywe_unknown_organization_or_merchant_is_404(sandbox, organization, merchant):
    response = koywe_put(sandbox, organization=organization, merchant=merchant, body={"firstName": "Ana"})
    assert (response.status_code, response.json()) == (404, {"statusCode": 404, "message": "Merchant not found"})
    assert sandbox.koywe_contact("ct_1") is None


# Koywe: contacts


def test_koywe_put_answers_and_stores_the_contact(sandbox):
    body = {
        "countrySymbol": "CL",
        "externalId": "ext-1",
        "firstName": "Ana",
        "lastName": "Pérez",
        "email": "ana@example.cl",
        "phone": "+56 9 6123 4567",
        "addressLine1": "Av. Providencia 1234",
        "city": "Santiago",
        "postalCode": "7500000",
        "businessType": "COMPANY",
        "taxIdType": "RUT",
        "taxIdNumber": "76.086.428-5",
        "documentType": "RUT",
        "documentNumber": "76.086.428-5",
        "externalBillingId": "bill-1",
        "type": "CUSTOMER",
    }
    response = koywe_put(sandbox, "ct_1", body)
    assert response.status_code == 200, response.text
    contact = response.json()
    assert contact == {
        "id": "ct_1",
        "countrySymbol": "CL",
        "merchantId": KOYWE_MERCHANT_ID,
        "firstName": "Ana",
        "lastName": "Pérez",
        "email": "ana@example.cl",
        "phone": "+56 9 6123 4567",
        "address": {
            "addressLine1": "Av. Providencia 1234",
            "addressLine2": None,
            "city": "Santiago",
            "state": None,
            "postalCode": "7500000",
        },
        "businessType": "COMPANY",
        "tax": {"type": "RUT", "number": "76.086.428-5"},
        "document": {"type": "RUT", "number": "76.086.428-5"},
        "createdAt": contact["createdAt"],
        "updatedAt": contact["updatedAt"],
        "externalId": "ext-1",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", contact["updatedAt"])
    assert contact["createdAt"] == contact["updatedAt"]
    assert sandbox.koywe_contact("ct_1") == contact


def test_koywe_put_replaces_and_keeps_created_at(sandbox):
    first = koywe_put(sandbox, "ct_1", {"firstName": "Ana", "email": "ana@example.com", "city": "Lima"}).json()
    time.sleep(0.01)
    second = koywe_put(sandbox, "ct_1", {"firstName": "Ana María"}).json()
    assert (second["firstName"], second["email"], second["address"]["city"]) == ("Ana María", None, None)
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] > first["updatedAt"]
    assert sandbox.koywe_contact("ct_1") == second
    assert sandbox.koywe_contact("ct_2") is None


@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"body": ["Ana"]}, "JSON object"),
        ({"data": b"{not json"}, "JSON object"),
        ({"body": {"firstName": "Ana", "nickname": "Anita"}}, "nickname"),
        ({"body": {"firstName": 7}}, "firstName"),
        ({"body": {"address": {"city": "Lima"}}}, "address"),
    ],
)
def test_koywe_malformed_body_is_400(sandbox, kwargs, message_part):
    response = koywe_put(sandbox, "ct_1", **kwargs)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"statusCode", "message"}
    assert response.json()["statusCode"] == 400
    assert message_part in response.json()["message"]
    assert sandbox.koywe_contact("ct_1") is None


def test_example_tax_ids_are_what_stdnum_says():
    for _, _, validator, valid, invalid in TAX_IDS:
        assert validator.is_valid(valid)
        assert not validator.is_valid(invalid)


INVALID = [
    ({"countrySymbol": "AU"}, "countrySymbol:"),
    ({"countrySymbol": "cl"}, "countrySymbol:"),
    ({"businessType": "PERSONAL"}, "businessType:"),
    ({"email": "ana@example"}, "email:"),
    ({"email": "ana example.com"}, "email:"),
    ({"countrySymbol": "CL", "phone": "+56 9 123"}, "phone:"),
    ({"countrySymbol": "AR", "phone": "not a phone"}, "phone:"),
    ({"phone": "2025550143"}, "phone:"),  # valid in the US, but no country and not +E.164
    ({"phone": "+1 202 555 0143"}, "phone:"),  # valid, but not in E.164 form
    ({"phone": "+1202555014"}, "phone:"),
    ({"businessType": "PERSON", "documentType": "DNI"}, "documentNumber: is required"),
    ({"businessType": "PERSON", "documentType": "RUT", "documentNumber": "76.086.428-5"}, "documentType:"),
    ({"businessType": "COMPANY", "documentType": "DNI", "documentNumber": "30123456"}, "documentType:"),
    ({"businessType": "GOVERNMENT", "documentType": "CPF", "documentNumber": "390.533.447-05"}, "documentType:"),
    ({"businessType": "OTHER", "documentType": "LICENSE", "documentNumber": "X1"}, "documentType:"),
    ({"countrySymbol": "AR", "taxIdType": "CUIT"}, "taxIdNumber: is required"),
    ({"taxIdType": "CUIT", "taxIdNumber": "20-26756539-3"}, "countrySymbol: is required"),
    ({"countrySymbol": "CL", "taxIdType": "CUIT", "taxIdNumber": "20-26756539-3"}, "taxIdType:"),
    ({"countrySymbol": "US", "taxIdType": "RUT", "taxIdNumber": "76.086.428-5"}, "taxIdType:"),
    *[
        ({"countrySymbol": country, "taxIdType": kind, "taxIdNumber": invalid}, f"taxIdNumber: is not a valid {kind}")
        for country, kind, _, _, invalid in TAX_IDS
    ],
    # The first failing rule is the one reported.
    ({"countrySymbol": "AU", "email": "ana@example"}, "countrySymbol:"),
    ({"email": "ana@example", "countrySymbol": "CL", "phone": "123"}, "email:"),
]
VALID = [
    {"countrySymbol": "PE"},
    {"businessType": "NON_PROFIT"},
    {"email": "ana.perez+crm@example.com.ar"},
    {"countrySymbol": "CL", "phone": "+56 9 6123 4567"},
    {"countrySymbol": "AR", "phone": "11 2345-6789"},  # national form is fine with a country
    {"phone": "+12025550143"},
    {"businessType": "PERSON", "documentType": "DNI", "documentNumber": "30123456"},
    {"businessType": "PERSON", "documentType": "PASSPORT", "documentNumber": "X1234567"},
    {"businessType": "COMPANY", "documentType": "RUT", "documentNumber": "76.086.428-5"},
    {"businessType": "PROVIDER", "documentType": "CNPJ", "documentNumber": "11.222.333/0001-81"},
    {"businessType": "OTHER", "documentType": "CURP", "documentNumber": "GODE561231HDFRRN09"},
    {"businessType": "OTHER", "documentType": "EIN", "documentNumber": "04-2103594"},
    *[{"countrySymbol": country, "taxIdType": kind, "taxIdNumber": valid} for country, kind, _, valid, _ in TAX_IDS],
    {"countrySymbol": "CL", "email": None, "phone": None, "taxIdType": None, "documentType": None},
]


@pytest.mark.parametrize(("body", "message_start"), INVALID, ids=[json.dumps(body) for body, _ in INVALID])
def test_koywe_validation_failure_is_422_naming_the_field(sandbox, body, message_start):
    response = koywe_put(sandbox, "ct_1", body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["statusCode"] == 422
    assert payload["message"].startswith(message_start)
    assert sandbox.koywe_contact("ct_1") is None


@pytest.mark.parametrize("body", VALID, ids=[json.dumps(body) for body in VALID])
def test_koywe_valid_body_is_accepted(sandbox, body):
    response = koywe_put(sandbox, "ct_1", body)
    assert response.status_code == 200, response.text
    assert sandbox.koywe_contact("ct_1") == response.json()


# Faults and the request log, shared with /api


def test_scripted_failures_apply_to_both_targets_in_their_error_shape(sandbox):
    valid_token = new_token(sandbox)
    sandbox.faults(script=[{"status": 503, "retry_after": 2}] * 3 + [{"status": 429}, {"drop": True}])
    token = token_request(sandbox)
    put = put_contact(sandbox, "c-1", token="anything")
    koywe = koywe_put(sandbox, "ct_1", token=None)
    rate_limited = koywe_put(sandbox, "ct_1")
    assert (token.status_code, token.json()) == (
        503,
        {"error": "service_unavailable", "error_description": "Service unavailable"},
    )
    assert (put.status_code, put.json()) == (
        503,
        {"api_version": "3.4.0", "error_code": "SERVICE_UNAVAILABLE", "error_message": "Service unavailable"},
    )
    assert (koywe.status_code, koywe.json()) == (503, {"statusCode": 503, "message": "Service unavailable"})
    assert all(response.headers["Retry-After"] == "2" for response in (token, put, koywe))
    assert (rate_limited.status_code, rate_limited.json()["statusCode"]) == (429, 429)
    assert rate_limited.headers["Retry-After"] == "1"
    with pytest.raises(requests.ConnectionError):
        put_contact(sandbox, "c-1", token=valid_token)
    assert sandbox.prioticket_tokens_issued() == 1  # the failed token request issued none
    assert sandbox.prioticket_contact("c-1") is None
    assert sandbox.koywe_contact("ct_1") is None


def test_outage_applies_to_both_targets(sandbox):
    token = new_token(sandbox)
    sandbox.faults(outage=True)
    for response in (token_request(sandbox), put_contact(sandbox, "c-1", token=token), koywe_put(sandbox, "ct_1")):
        assert response.status_code == 503
        assert "Retry-After" not in response.headers
    assert koywe_put(sandbox, "ct_1").json() == {"statusCode": 503, "message": "Service unavailable"}
    assert put_contact(sandbox, "c-1", token=token).json()["error_code"] == "SERVICE_UNAVAILABLE"
    sandbox.clear_faults()
    assert put_contact(sandbox, "c-1", token=token).status_code == 200
    assert koywe_put(sandbox, "ct_1").status_code == 200


def test_latency_applies_to_both_targets(sandbox):
    sandbox.faults(latency_ms=200)
    started = time.monotonic()
    token_request(sandbox)
    koywe_put(sandbox, "ct_1")
    assert time.monotonic() - started >= 0.4


def test_hostile_answers_apply_to_both_targets(sandbox):
    sandbox.faults(echo_credentials=True, escape="all", script=[{"status": 503}] * 2)
    token = token_request(sandbox)
    koywe = koywe_put(sandbox, "ct_1")
    assert token.json()["token"] == PRIOTICKET_CLIENT_SECRET  # what a token request authenticates with
    assert koywe.json()["token"] == KOYWE_TOKEN
    assert PRIOTICKET_CLIENT_SECRET not in token.text  # spelt with escapes
    assert KOYWE_TOKEN not in koywe.text


def test_qwoty_token_fault_does_not_touch_the_other_targets(sandbox):
    sandbox.faults(token="rotated-qwoty-token")
    assert sandbox.api("GET", "/customers").status_code == 401
    assert put_contact(sandbox, "c-1", token=new_token(sandbox)).status_code == 200
    assert koywe_put(sandbox, "ct_1").status_code == 200


def test_request_log_keeps_put_bodies_and_never_the_client_secret(sandbox):
    token = new_token(sandbox)
    basic = base64.b64encode(f"{PRIOTICKET_CLIENT_ID}:{PRIOTICKET_CLIENT_SECRET}".encode()).decode()
    requests.post(
        f"{sandbox.prioticket_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    requests.post(  # a client that wrongly sends JSON: still not logged
        f"{sandbox.prioticket_url}/oauth2/token",
        json={"client_id": PRIOTICKET_CLIENT_ID, "client_secret": PRIOTICKET_CLIENT_SECRET},
        timeout=5,
    )
    body = contact_body("c-1", contact_name_first="Ana")
    put_contact(sandbox, "c-1", body, token=token, params={"order_reference": "ORD-1"})
    koywe_put(sandbox, "ct_1", {"firstName": "Ana", "email": "bad"})
    log = sandbox.received()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("POST", "/prioticket/oauth2/token", 200),
        ("POST", "/prioticket/oauth2/token", 200),
        ("POST", "/prioticket/oauth2/token", 401),
        ("PUT", "/prioticket/v3/contacts/c-1", 200),
        ("PUT", f"/koywe/v1/organizations/{KOYWE_ORGANIZATION_ID}/merchants/{KOYWE_MERCHANT_ID}/contacts/ct_1", 422),
    ]
    assert [entry["body"] for entry in log] == [None, None, None, body, {"firstName": "Ana", "email": "bad"}]
    assert log[3]["query"] == {"order_reference": "ORD-1"}
    logged = json.dumps(log)
    for secret in (PRIOTICKET_CLIENT_SECRET, basic, token, KOYWE_TOKEN):
        assert secret not in logged


# Credentials given to the server


def test_server_takes_its_credentials_from_its_arguments():
    with SandboxServer(
        customers=1, prioticket_client_id="id-x", prioticket_client_secret="secret-x", koywe_token="koywe-x"
    ) as server:
        token_url = f"{server.base_url}/prioticket/oauth2/token"
        koywe_url = f"{server.base_url}/koywe/v1/organizations/{KOYWE_ORGANIZATION_ID}/merchants/{KOYWE_MERCHANT_ID}"
        default = {"grant_type": "client_credentials", "client_id": PRIOTICKET_CLIENT_ID}
        default["client_secret"] = PRIOTICKET_CLIENT_SECRET
        custom = {"grant_type": "client_credentials", "client_id": "id-x", "client_secret": "secret-x"}
        assert requests.post(token_url, data=default, timeout=5).status_code == 401
        assert requests.post(token_url, data=custom, timeout=5).status_code == 200
        for token, status in [(KOYWE_TOKEN, 401), ("koywe-x", 200)]:
            response = requests.put(
                f"{koywe_url}/contacts/ct_1", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            assert response.status_code == status
