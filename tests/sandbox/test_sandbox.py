"""The sandbox upstream over real HTTP: API contract, faults, controls, seed data.

No Django and no database: one SandboxServer on a free port serves the module.
"""

import json
import time

import pytest
import requests

from sandbox import DEFAULT_TOKEN, SandboxServer, seed, taxids

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxServer(customers=20).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean_slate(sandbox):
    """Every test starts without faults and with an empty request log."""
    requests.post(f"{sandbox.base_url}/__sandbox__/faults/clear", timeout=5)
    requests.delete(f"{sandbox.base_url}/__sandbox__/requests", timeout=5)


def api(sandbox, method, path, token=DEFAULT_TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{sandbox.url}{path}", headers=headers, timeout=5, **kwargs)


def control(sandbox, method, action, **kwargs):
    return requests.request(method, f"{sandbox.base_url}/__sandbox__/{action}", timeout=5, **kwargs)


def set_faults(sandbox, **settings):
    response = control(sandbox, "POST", "faults", json=settings)
    assert response.status_code == 200, response.text
    return response.json()


def first(sandbox, resource):
    return api(sandbox, "GET", f"/{resource}?per_page=1").json()["data"][0]


def assert_error(response, status, message):
    assert (response.status_code, response.json()) == (status, {"success": False, "error": message})


# Auth and routing


@pytest.mark.parametrize("token", [None, "wrong_token"])
def test_missing_or_wrong_token_is_401(sandbox, token):
    assert_error(api(sandbox, "GET", "/customers", token=token), 401, "Invalid API token")


def test_unknown_route_is_404_and_wrong_method_405(sandbox):
    customer = first(sandbox, "customers")
    assert_error(api(sandbox, "GET", "/invoices"), 404, "Not found")
    assert_error(api(sandbox, "DELETE", f"/customers/{customer['id']}"), 405, "Method not allowed")
    assert_error(api(sandbox, "POST", "/customers", json={"name": "X"}), 405, "Method not allowed")


# Reading


def test_get_each_kind_returns_the_object_in_the_envelope(sandbox):
    for resource, fields in [
        ("customers", {"id", "workspace_id", "name", "type", "segment_id", "logo", "tax_ids", "id_crm", "id_erp",
                       "id_accounting", "contact_ids", "address_ids", "created_at", "updated_at"}),
        ("contacts", {"id", "customer_id", "first_name", "last_name", "email", "phone", "role", "id_crm", "id_erp",
                      "id_accounting", "created_at", "updated_at"}),
        ("catalogs", {"id", "name", "api_name", "reference", "description", "is_active", "id_crm", "id_erp",
                      "id_accounting", "created_at", "updated_at"}),
    ]:  # fmt: skip
        listed = first(sandbox, resource)
        response = api(sandbox, "GET", f"/{resource}/{listed['id']}")
        assert response.status_code == 200
        assert response.json() == {"success": True, "data": listed}
        assert set(listed) == fields


@pytest.mark.parametrize(
    ("resource", "message"),
    [("customers", "Customer not found"), ("contacts", "Contact not found"), ("catalogs", "Catalog not found")],
)
def test_unknown_or_malformed_id_is_404(sandbox, resource, message):
    assert_error(api(sandbox, "GET", f"/{resource}/0b7e5f3c-1111-4222-8333-444455556666"), 404, message)
    assert_error(api(sandbox, "GET", f"/{resource}/not-a-uuid"), 404, message)
    assert_error(api(sandbox, "PATCH", f"/{resource}/not-a-uuid", json={}), 404, message)


def test_customer_contact_ids_are_its_contacts_in_creation_order(sandbox):
    contacts = api(sandbox, "GET", "/contacts?per_page=200").json()["data"]
    for customer in api(sandbox, "GET", "/customers?per_page=200").json()["data"]:
        own = [c for c in contacts if c["customer_id"] == customer["id"]]
        assert customer["contact_ids"] == [c["id"] for c in sorted(own, key=lambda c: (c["created_at"], c["id"]))]


def test_pagination(sandbox):
    page = api(sandbox, "GET", "/customers?page=3&per_page=7").json()
    assert page["pagination"] == {"page": 3, "per_page": 7, "total": 20, "total_pages": 3}
    assert len(page["data"]) == 6
    default = api(sandbox, "GET", "/customers").json()
    assert default["pagination"] == {"page": 1, "per_page": 50, "total": 20, "total_pages": 1}
    past_end = api(sandbox, "GET", "/customers?page=4&per_page=7").json()
    assert past_end["success"] is True
    assert past_end["data"] == []


def test_pages_are_stable_and_cover_everything_once(sandbox):
    ids = []
    for page in (1, 2, 3):
        ids += [c["id"] for c in api(sandbox, "GET", f"/customers?page={page}&per_page=7").json()["data"]]
    everything = api(sandbox, "GET", "/customers?per_page=200").json()["data"]
    assert ids == [c["id"] for c in everything]
    assert [(c["created_at"], c["id"]) for c in everything] == sorted((c["created_at"], c["id"]) for c in everything)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=201", "per_page must be between 1 and 200"),
        ("per_page=0", "per_page must be between 1 and 200"),
        ("per_page=ten", "per_page must be between 1 and 200"),
        ("page=0", "page must be a positive integer"),
        ("page=-1", "page must be a positive integer"),
        ("page=two", "page must be a positive integer"),
    ],
)
def test_bad_pagination_is_400(sandbox, query, message):
    assert_error(api(sandbox, "GET", f"/contacts?{query}"), 400, message)


def test_per_page_200_is_allowed(sandbox):
    assert api(sandbox, "GET", "/contacts?per_page=200").status_code == 200


# Updating


def test_patch_customer_answers_the_full_object_and_persists(sandbox):
    customer = first(sandbox, "customers")
    changes = {"name": "Renamed SAS", "tax_ids": [{"tax": "VAT", "tax_value": "FR40303265045"}], "id_erp": "ERP-9"}
    response = api(sandbox, "PATCH", f"/customers/{customer['id']}", json=changes)
    assert response.status_code == 200
    updated = response.json()["data"]
    assert updated == {**customer, **changes, "updated_at": updated["updated_at"]}
    assert updated["updated_at"] > customer["updated_at"]
    assert updated["updated_at"].endswith("Z")
    assert api(sandbox, "GET", f"/customers/{customer['id']}").json()["data"] == updated


def test_two_quick_patches_get_different_updated_at(sandbox):
    catalog = first(sandbox, "catalogs")
    one = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"reference": "A"}).json()["data"]
    two = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"reference": "B"}).json()["data"]
    assert two["updated_at"] > one["updated_at"]


def test_patch_contact_and_catalog(sandbox):
    contact = first(sandbox, "contacts")
    body = {"phone": "+33 6 99 88 77 66", "role": ["buyer", "billing"], "customer_id": contact["customer_id"]}
    updated = api(sandbox, "PATCH", f"/contacts/{contact['id']}", json=body).json()["data"]
    assert (updated["phone"], updated["role"]) == ("+33 6 99 88 77 66", ["buyer", "billing"])
    catalog = first(sandbox, "catalogs")
    updated = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"is_active": False}).json()["data"]
    assert updated["is_active"] is False
    assert api(sandbox, "GET", f"/catalogs/{catalog['id']}").json()["data"]["is_active"] is False


def test_null_unsets_optional_fields(sandbox):
    customer = first(sandbox, "customers")
    body = {"segment_id": None, "logo": None, "tax_ids": None, "id_crm": None}
    updated = api(sandbox, "PATCH", f"/customers/{customer['id']}", json=body).json()["data"]
    assert (updated["segment_id"], updated["logo"], updated["tax_ids"], updated["id_crm"]) == (None, None, [], None)
    contact = first(sandbox, "contacts")
    updated = api(sandbox, "PATCH", f"/contacts/{contact['id']}", json={"email": None, "role": None}).json()["data"]
    assert (updated["email"], updated["role"]) == (None, [])


PATCH_ERRORS = [
    ("customers", [], 400, "Body must be a JSON object"),
    ("customers", "name", 400, "Body must be a JSON object"),
    ("customers", {"foo": 1}, 400, "Unknown field: foo"),
    ("customers", {"id": "x"}, 400, "Field is read-only: id"),
    ("customers", {"created_at": "x"}, 400, "Field is read-only: created_at"),
    ("customers", {"updated_at": "x"}, 400, "Field is read-only: updated_at"),
    ("customers", {"workspace_id": "x"}, 400, "Field is read-only: workspace_id"),
    ("customers", {"contact_ids": []}, 400, "Field is read-only: contact_ids"),
    ("customers", {"address_ids": []}, 400, "Field is read-only: address_ids"),
    ("customers", {"name": 5}, 422, "name must be a string"),
    ("customers", {"name": ""}, 422, "name cannot be empty"),
    ("customers", {"name": "  "}, 422, "name cannot be empty"),
    ("customers", {"name": "x" * 256}, 422, "name must be at most 255 characters"),
    ("customers", {"name": None}, 422, "name cannot be null"),
    ("customers", {"type": None}, 422, "type cannot be null"),
    ("customers", {"type": "robot"}, 422, "type must be one of: company, individual"),
    ("customers", {"segment_id": "nope"}, 422, "segment_id must be a UUID"),
    ("customers", {"logo": 3}, 422, "logo must be a string"),
    ("customers", {"id_crm": 123}, 422, "id_crm must be a string"),
    ("customers", {"tax_ids": "FR1"}, 422, "tax_ids must be a list of objects with string tax and tax_value"),
    ("customers", {"tax_ids": [{"tax": "VAT"}]}, 422,
     "tax_ids must be a list of objects with string tax and tax_value"),
    ("customers", {"tax_ids": [{"tax": "VAT", "tax_value": 1}]}, 422,
     "tax_ids must be a list of objects with string tax and tax_value"),
    ("customers", {"tax_ids": [{"tax": "VAT", "tax_value": "1", "x": 1}]}, 422,
     "tax_ids must be a list of objects with string tax and tax_value"),
    ("contacts", {"role": "buyer"}, 422, "role must be a list"),
    ("contacts", {"role": ["boss"]}, 422, "Invalid role: boss"),
    ("contacts", {"role": ["buyer", "buyer"]}, 422, "Duplicate role: buyer"),
    ("contacts", {"email": "x"}, 422, "Invalid email: x"),
    ("contacts", {"email": "a@b"}, 422, "Invalid email: a@b"),
    ("contacts", {"first_name": ["A"]}, 422, "first_name must be a string"),
    ("contacts", {"contact_ids": []}, 400, "Unknown field: contact_ids"),
    ("contacts", {"id": "x"}, 400, "Field is read-only: id"),
    ("catalogs", {"is_active": "yes"}, 422, "is_active must be a boolean"),
    ("catalogs", {"is_active": None}, 422, "is_active cannot be null"),
    ("catalogs", {"name": None}, 422, "name cannot be null"),
    ("catalogs", {"description": "x" * 5001}, 422, "description must be at most 5000 characters"),
    ("catalogs", {"api_name": "x" * 256}, 422, "api_name must be at most 255 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "body", "status", "message"), PATCH_ERRORS)
def test_patch_validation_errors(sandbox, resource, body, status, message):
    obj = first(sandbox, resource)
    response = api(sandbox, "PATCH", f"/{resource}/{obj['id']}", json=body)
    assert_error(response, status, message)
    assert api(sandbox, "GET", f"/{resource}/{obj['id']}").json()["data"] == obj


def test_body_that_is_not_json_is_400(sandbox):
    catalog = first(sandbox, "catalogs")
    response = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", data="{not json")
    assert_error(response, 400, "Body must be a JSON object")


def test_long_description_within_limit_is_accepted(sandbox):
    catalog = first(sandbox, "catalogs")
    response = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"description": "x" * 5000})
    assert response.status_code == 200


def test_contact_customer_id_cannot_change(sandbox):
    contacts = api(sandbox, "GET", "/contacts?per_page=200").json()["data"]
    contact = contacts[0]
    other = next(c["customer_id"] for c in contacts if c["customer_id"] != contact["customer_id"])
    response = api(sandbox, "PATCH", f"/contacts/{contact['id']}", json={"customer_id": other})
    assert_error(response, 422, "customer_id cannot be changed")
    response = api(sandbox, "PATCH", f"/contacts/{contact['id']}", json={"customer_id": None})
    assert_error(response, 422, "customer_id cannot be changed")


# Creating


def test_post_contact_creates_it_under_its_customer(sandbox):
    customer = first(sandbox, "customers")
    body = {"customer_id": customer["id"], "first_name": "Ana", "last_name": "Rojas", "role": ["signer"]}
    response = api(sandbox, "POST", "/contacts", json=body)
    assert response.status_code == 201
    contact = response.json()["data"]
    assert {k: contact[k] for k in body} == body
    assert contact["email"] is None
    assert contact["created_at"] == contact["updated_at"]
    assert api(sandbox, "GET", f"/contacts/{contact['id']}").json()["data"] == contact
    assert api(sandbox, "GET", f"/customers/{customer['id']}").json()["data"]["contact_ids"][-1] == contact["id"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"first_name": "Ana"}, "customer_id is required"),
        ({"customer_id": None}, "customer_id is required"),
        ({"customer_id": "0b7e5f3c-1111-4222-8333-444455556666"}, "Customer not found"),
    ],
)
def test_post_contact_needs_an_existing_customer(sandbox, body, message):
    assert_error(api(sandbox, "POST", "/contacts", json=body), 422, message)


def test_post_catalog_generates_api_name(sandbox):
    response = api(sandbox, "POST", "/catalogs", json={"name": "Été Collection 2027", "reference": "CAT-100"})
    assert response.status_code == 201
    catalog = response.json()["data"]
    assert (catalog["api_name"], catalog["is_active"], catalog["reference"]) == (
        "ete_collection_2027",
        True,
        "CAT-100",
    )
    given = api(sandbox, "POST", "/catalogs", json={"name": "B2B", "api_name": "b2b_custom"}).json()["data"]
    assert given["api_name"] == "b2b_custom"
    assert_error(api(sandbox, "POST", "/catalogs", json={"reference": "X"}), 422, "name is required")
    assert_error(api(sandbox, "POST", "/catalogs", json={"name": "X", "id": "y"}), 400, "Field is read-only: id")


# Faults


def test_latency(sandbox):
    set_faults(sandbox, latency_ms=300)
    started = time.monotonic()
    assert api(sandbox, "GET", "/catalogs").status_code == 200
    assert 0.3 <= time.monotonic() - started < 2


def test_script_of_one_shot_answers_comes_first(sandbox):
    set_faults(sandbox, script=[{"status": 503, "error": "Down for maintenance", "retry_after": 2}, {"status": 401}])
    response = api(sandbox, "GET", "/catalogs")
    assert_error(response, 503, "Down for maintenance")
    assert response.headers["Retry-After"] == "2"
    assert_error(api(sandbox, "GET", "/catalogs"), 401, "Invalid API token")
    assert api(sandbox, "GET", "/catalogs").status_code == 200


def test_script_applies_before_auth(sandbox):
    set_faults(sandbox, script=[{"status": 500}])
    assert_error(api(sandbox, "GET", "/catalogs", token=None), 500, "Internal Server Error")


def test_rate_limit_sends_retry_after(sandbox):
    set_faults(sandbox, rate_limit_rate=1, retry_after=7)
    response = api(sandbox, "GET", "/catalogs")
    assert_error(response, 429, "Rate limit exceeded")
    assert response.headers["Retry-After"] == "7"
    set_faults(sandbox, rate_limit_rate=0, script=[{"status": 429}])
    assert api(sandbox, "GET", "/catalogs").headers["Retry-After"] == "7"


def test_error_rate(sandbox):
    set_faults(sandbox, error_rate=1)
    assert_error(api(sandbox, "GET", "/catalogs"), 503, "Service unavailable")


def test_drop_closes_the_connection(sandbox):
    set_faults(sandbox, script=[{"drop": True}])
    with pytest.raises(requests.ConnectionError):
        api(sandbox, "GET", "/catalogs")
    set_faults(sandbox, drop_rate=1)
    with pytest.raises(requests.ConnectionError):
        api(sandbox, "PATCH", f"/catalogs/{sandbox.store.page('catalog', 0, 1)[0]['id']}", json={"name": "X"})
    set_faults(sandbox, drop_rate=0)
    assert api(sandbox, "GET", "/catalogs").status_code == 200


def test_drop_works_on_a_kept_alive_connection(sandbox):
    with requests.Session() as session:
        session.headers.update(AUTH)
        assert session.get(f"{sandbox.url}/catalogs", timeout=5).status_code == 200
        set_faults(sandbox, script=[{"drop": True}])
        with pytest.raises(requests.ConnectionError):
            session.get(f"{sandbox.url}/catalogs", timeout=5)
        assert session.get(f"{sandbox.url}/catalogs", timeout=5).status_code == 200


def test_outage_seconds(sandbox):
    faults = set_faults(sandbox, outage_seconds=0.4)
    assert 0 < faults["outage_seconds"] <= 0.4
    assert_error(api(sandbox, "GET", "/catalogs"), 503, "Service unavailable")
    time.sleep(0.5)
    assert api(sandbox, "GET", "/catalogs").status_code == 200
    set_faults(sandbox, outage_seconds=60)
    assert api(sandbox, "GET", "/catalogs").status_code == 503
    set_faults(sandbox, outage_seconds=0)
    assert api(sandbox, "GET", "/catalogs").status_code == 200


def test_outage_switch(sandbox):
    set_faults(sandbox, outage=True)
    assert_error(api(sandbox, "GET", "/catalogs", token=None), 503, "Service unavailable")
    set_faults(sandbox, outage=False)
    assert api(sandbox, "GET", "/catalogs").status_code == 200


def test_token_change_and_clear_restores_it(sandbox):
    faults = set_faults(sandbox, token="qwt_rotated")
    assert faults["token_changed"] is True
    assert "qwt_rotated" not in json.dumps(faults)
    assert_error(api(sandbox, "GET", "/catalogs"), 401, "Invalid API token")
    assert api(sandbox, "GET", "/catalogs", token="qwt_rotated").status_code == 200
    control(sandbox, "POST", "faults/clear")
    assert api(sandbox, "GET", "/catalogs").status_code == 200


def test_fault_seed_makes_random_faults_reproducible(sandbox):
    def statuses():
        set_faults(sandbox, fault_seed=1, error_rate=0.3, rate_limit_rate=0.3)
        return [api(sandbox, "GET", "/catalogs?per_page=1").status_code for _ in range(20)]

    first_run = statuses()
    assert statuses() == first_run
    assert {200, 429, 503} == set(first_run)


def test_faults_snapshot_and_clear(sandbox):
    faults = set_faults(sandbox, latency_ms=5, error_rate=0.5, script=[{"drop": True}, {"status": 429}])
    assert faults["latency_ms"] == 5
    assert faults["error_rate"] == 0.5
    assert faults["script"] == [{"drop": True}, {"status": 429, "error": "Rate limit exceeded"}]
    assert control(sandbox, "GET", "faults").json() == faults
    cleared = control(sandbox, "POST", "faults/clear").json()
    assert cleared == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "drop_rate": 0.0,
        "rate_limit_rate": 0.0,
        "retry_after": 1,
        "outage": False,
        "outage_seconds": 0.0,
        "script": [],
        "token_changed": False,
        "escape": "none",
        "echo_credentials": False,
    }


@pytest.mark.parametrize(
    ("fault_settings", "message"),
    [
        ({"error_rate": 2}, "error_rate must be a number between 0 and 1"),
        ({"latency_ms": -1}, "latency_ms must be a non-negative integer"),
        ({"outage": "yes"}, "outage must be a boolean"),
        ({"script": [{"status": 200}]}, "script[0].status must be an HTTP error status (400-599)"),
        ({"script": [{"hostile": "slow"}]}, "script[0].hostile must be one of deep_json, huge, trickle"),
        ({"script": [{"hostile": "huge", "size": -1}]}, "script[0].size must be a non-negative integer"),
        ({"script": [{"hostile": "huge", "chunked": 1}]}, "script[0].chunked must be a boolean"),
        ({"script": [{"hostile": "trickle", "status": 700}]}, "script[0].status must be an HTTP status (200-599)"),
        ({"script": [{"hostile": "trickle", "drop": True}]}, "script[0] has an unknown key: drop"),
        ({"nonsense": 1}, "Unknown fault: nonsense"),
        ({"escape": "some"}, "escape must be one of none, html, all"),
        ({"echo_credentials": 1}, "echo_credentials must be a boolean"),
    ],
)
def test_bad_fault_settings_are_400_and_change_nothing(sandbox, fault_settings, message):
    response = control(sandbox, "POST", "faults", json={"latency_ms": 9, **fault_settings})
    assert (response.status_code, response.json()) == (400, {"ok": False, "error": message})
    assert control(sandbox, "GET", "faults").json()["latency_ms"] == 0


def test_a_hostile_answer_comes_after_the_request_is_applied(sandbox):
    catalog = first(sandbox, "catalogs")
    faults = set_faults(sandbox, script=[{"hostile": "deep_json", "size": 1000}])
    assert faults["script"] == [{"hostile": "deep_json", "size": 1000}]
    response = api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"reference": "CAT-DEEP"})
    assert (response.status_code, response.content) == (200, b"[" * 1000)
    assert api(sandbox, "GET", f"/catalogs/{catalog['id']}").json()["data"]["reference"] == "CAT-DEEP"
    assert api(sandbox, "GET", f"/catalogs/{catalog['id']}").json()["success"] is True  # one answer only


def test_a_hostile_answer_may_replace_the_status(sandbox):
    set_faults(sandbox, script=[{"hostile": "deep_json", "status": 503, "size": 10}])
    response = api(sandbox, "GET", "/catalogs")
    assert (response.status_code, response.content) == (503, b"[" * 10)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_answer_is_the_real_one_padded_to_its_size(sandbox, chunked):
    set_faults(sandbox, script=[{"hostile": "huge", "size": 3 * 1024 * 1024 + 5, "chunked": chunked}])
    response = api(sandbox, "GET", "/catalogs?per_page=1")
    assert len(response.content) == 3 * 1024 * 1024 + 5
    assert ("Content-Length" in response.headers) is not chunked
    body = response.json()
    assert (body["success"], len(body["data"])) == (True, 1)
    assert set(body["padding"]) == {"x"}


def test_a_trickled_answer_comes_a_byte_at_a_time(sandbox):
    path = f"/contacts/{first(sandbox, 'contacts')['id']}"
    expected = api(sandbox, "GET", path).content
    set_faults(sandbox, script=[{"hostile": "trickle", "byte_ms": 1}])
    started = time.monotonic()
    with requests.get(f"{sandbox.url}{path}", headers=AUTH, timeout=5, stream=True) as response:
        reads = []
        while read := response.raw.read1(1024):
            reads.append(read)
    assert b"".join(reads) == expected
    assert len(reads) > len(expected) / 4  # about one socket read per byte
    assert time.monotonic() - started >= len(expected) * 0.001


# Hostile answers


def test_html_escapes_hide_characters_from_the_raw_text_not_from_json(sandbox):
    set_faults(sandbox, escape="html", script=[{"status": 422, "error": "a<b>&c"}])
    response = api(sandbox, "GET", "/catalogs")
    assert r"a\u003cb\u003e\u0026c" in response.text
    assert response.json()["error"] == "a<b>&c"


def test_all_escapes_spell_every_character_of_every_string(sandbox):
    set_faults(sandbox, escape="all")
    response = api(sandbox, "GET", "/catalogs?per_page=1")
    catalog = response.json()["data"][0]
    assert catalog["name"]
    assert catalog["name"] not in response.text
    assert r'"\u0073\u0075\u0063\u0063\u0065\u0073\u0073":true' in response.text  # "success": true


def test_echo_credentials_adds_the_requests_bearer_token_to_each_answer(sandbox):
    set_faults(sandbox, echo_credentials=True, script=[{"status": 503}])
    assert api(sandbox, "GET", "/catalogs").json()["token"] == DEFAULT_TOKEN
    assert api(sandbox, "GET", "/catalogs", token="not-ours").json()["token"] == "not-ours"
    assert api(sandbox, "GET", "/catalogs?per_page=1").json()["token"] == DEFAULT_TOKEN  # successes too
    assert "token" not in control(sandbox, "GET", "health").json()


# Control endpoints


def test_health_and_unknown_control(sandbox):
    assert control(sandbox, "GET", "health").json() == {"ok": True}
    assert control(sandbox, "GET", "nothing").status_code == 404
    assert control(sandbox, "DELETE", "health").status_code == 405


def test_request_log_records_requests_without_the_token(sandbox):
    catalog = first(sandbox, "catalogs")
    api(sandbox, "PATCH", f"/catalogs/{catalog['id']}", json={"reference": "CAT-X"})
    api(sandbox, "GET", "/catalogs", token="wrong")
    set_faults(sandbox, script=[{"drop": True}])
    with pytest.raises(requests.ConnectionError):
        api(sandbox, "GET", "/contacts?page=2")
    log = control(sandbox, "GET", "requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", "/api/catalogs", 200),
        ("PATCH", f"/api/catalogs/{catalog['id']}", 200),
        ("GET", "/api/catalogs", 401),
        ("GET", "/api/contacts", None),
    ]
    assert log[0]["query"] == {"per_page": "1"}
    assert log[3]["query"] == {"page": "2"}
    assert log[1]["body"] == {"reference": "CAT-X"}
    assert log[0]["body"] is None
    assert all(e["at"].endswith("Z") for e in log)
    assert DEFAULT_TOKEN not in json.dumps(log)
    assert "Authorization" not in json.dumps(log)
    assert [e["method"] for e in control(sandbox, "GET", "requests?method=PATCH").json()] == ["PATCH"]
    control(sandbox, "DELETE", "requests")
    assert control(sandbox, "GET", "requests").json() == []


def test_stats(sandbox):
    api(sandbox, "GET", "/catalogs")
    api(sandbox, "GET", "/catalogs", token=None)
    stats = control(sandbox, "GET", "stats").json()
    assert stats["objects"]["customers"] == 20
    assert stats["objects"]["catalogs"] >= 12
    assert stats["requests"] == {"total": 2, "by_method": {"GET": 2}, "by_status": {"200": 1, "401": 1}}


def test_reset_restores_seed_and_clears_faults_and_log(sandbox):
    customer = first(sandbox, "customers")
    original = next(c for c in seed.generate(seed=42, customers=20)["customer"] if c["id"] == customer["id"])
    api(sandbox, "PATCH", f"/customers/{customer['id']}", json={"name": "Changed"})
    api(sandbox, "POST", "/catalogs", json={"name": "Extra"})
    set_faults(sandbox, latency_ms=50)
    assert control(sandbox, "POST", "reset").json() == {"ok": True}
    assert control(sandbox, "GET", "faults").json()["latency_ms"] == 0
    assert control(sandbox, "GET", "requests").json() == []
    assert api(sandbox, "GET", f"/customers/{customer['id']}").json()["data"]["name"] == original["name"]
    assert api(sandbox, "GET", "/catalogs").json()["pagination"]["total"] == 12


# Persistence


def test_db_file_keeps_data_across_servers(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxServer(db_path=db, customers=5) as first_server:
        customer = first(first_server, "customers")
        api(first_server, "PATCH", f"/customers/{customer['id']}", json={"name": "Kept Name"})
    with SandboxServer(db_path=db, customers=50, seed=7) as second_server:
        assert api(second_server, "GET", "/customers").json()["pagination"]["total"] == 5
        assert api(second_server, "GET", f"/customers/{customer['id']}").json()["data"]["name"] == "Kept Name"
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    with SandboxServer(db_path=str(empty), customers=3) as third_server:
        assert api(third_server, "GET", "/customers").json()["pagination"]["total"] == 3


def test_stopped_server_refuses_connections():
    server = SandboxServer(customers=1).start()
    url = server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/customers", headers=AUTH, timeout=2)


# Seed data


def test_seed_is_realistic_and_deterministic():
    started = time.monotonic()
    data = seed.generate(seed=42, customers=300)
    assert time.monotonic() - started < 2
    assert seed.generate(seed=42, customers=300) == data
    customers, contacts, catalogs = data["customer"], data["contact"], data["catalog"]
    assert len(customers) == 300
    assert len(catalogs) == 12
    assert 0.6 < sum(c["type"] == "company" for c in customers) / 300 < 0.8
    assert len({c["workspace_id"] for c in customers}) == 1
    assert 1 < len({c["segment_id"] for c in customers}) <= 6
    per_customer = {c["id"]: 0 for c in customers}
    for contact in contacts:
        per_customer[contact["customer_id"]] += 1
    assert set(per_customer.values()) <= {1, 2, 3, 4}
    pairs = [pair for c in customers for pair in c["tax_ids"]]
    assert all(set(pair) == {"tax", "tax_value"} and pair["tax"] in taxids.TAX_TYPES for pair in pairs)
    assert all(len(c["tax_ids"]) <= 3 for c in customers)
    valid = [taxids.is_valid(pair["tax"], pair["tax_value"]) for pair in pairs]
    assert 0.02 < valid.count(False) / len(valid) < 0.15
    assert {"VAT", "SIREN", "RUT", "CUIT", "CNPJ", "RFC"} <= {pair["tax"] for pair in pairs}
    assert all(c["email"] is None or "@" in c["email"] for c in contacts)
    assert all(c["phone"] is None or c["phone"].startswith("+") for c in contacts)
    assert all(set(c["role"]) <= set(seed.ROLES) and len(c["role"]) <= 3 for c in contacts)
    assert all(c["api_name"].startswith("catalog_") for c in catalogs)
    assert sum(c["is_active"] for c in catalogs) >= 9


def test_seeded_human_formats():
    pairs = [pair for c in seed.generate(seed=42, customers=300)["customer"] for pair in c["tax_ids"]]
    by_tax = {}
    for pair in pairs:
        by_tax.setdefault(pair["tax"], pair["tax_value"])
    assert by_tax["RUT"].count(".") == 2
    assert by_tax["RUT"][-2] == "-"
    assert "/" in by_tax["CNPJ"]
    assert by_tax["VAT"][:2].isalpha()


def test_known_values_check_out_with_stdnum():
    assert taxids.is_valid("VAT", "FR40303265045")
    assert taxids.is_valid("RUT", "76.086.428-5")
    assert taxids.is_valid("CNPJ", "11.222.333/0001-81")
    assert not taxids.is_valid("SIREN", "123456789")


def test_get_is_fast(sandbox):
    customer = first(sandbox, "customers")
    with requests.Session() as session:
        session.headers.update(AUTH)
        started = time.monotonic()
        for _ in range(50):
            assert session.get(f"{sandbox.url}/customers/{customer['id']}", timeout=5).status_code == 200
        assert (time.monotonic() - started) / 50 < 0.02
