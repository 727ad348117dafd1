"""Probe findings 7 and 8: sign-in timing that tells who exists; webhook addresses that reach inside."""

from __future__ import annotations

import socket

import pytest

from crisis.notifications import webhooks
from crisis.notifications.webhooks import DeliveryRefused, check_url
from crisis.people import service as people


@pytest.fixture
def checked_hashes(monkeypatch) -> list[str]:
    """Every stored hash a password is checked against, in order."""
    seen: list[str] = []
    real = people.check_password_hash

    def recording(pwhash: str, password: str) -> bool:
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(people, "check_password_hash", recording)
    return seen


@pytest.mark.parametrize("method", ["pbkdf2:sha256:2000", "scrypt:1024:8:1"])
def test_an_unknown_email_costs_the_same_hash_as_a_wrong_password(app, make_person, checked_hashes, method):
    """Finding 7: the placeholder hash is made with the configured method, not a cheaper one."""
    app.config["PASSWORD_HASH_METHOD"] = method
    make_person("casey@example.com")
    with app.app_context():
        people.set_password(person=people.get_person("casey@example.com"), password="a-long-new-password")
        assert people.authenticate(email="casey@example.com", password="wrong-password") is None
        assert people.authenticate(email="nobody@example.com", password="wrong-password") is None
    real, placeholder = checked_hashes
    assert real.split("$")[0] == placeholder.split("$")[0] == method


@pytest.mark.parametrize(
    "host", ["[::7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b:1::a00:1]", "[2002:7f00:1::]",
             "[2002:a00:1::]", "[fec0::1]", "[::ffff:10.0.0.1]"],
)
def test_ipv6_addresses_carrying_private_ipv4_are_refused(host):
    """Finding 8: IPv4-compatible, NAT64, 6to4 and site-local addresses are not public."""
    with pytest.raises(DeliveryRefused):
        check_url(f"http://{host}/hook", allow_private=False)


def test_public_ipv6_and_nat64_of_a_public_address_are_accepted():
    assert check_url("http://[2606:4700:4700::1111]/hook", allow_private=False)[1] == "2606:4700:4700::1111"
    assert check_url("http://[64:ff9b::808:808]/hook", allow_private=False)[0] == "http"


def test_delivery_connects_to_the_address_that_was_checked(monkeypatch):
    """Finding 8: a second lookup (DNS rebinding) cannot send the delivery to a private address."""
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding_lookup(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    connected: list[tuple] = []

    def recording_connect(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("stop here")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_lookup)
    monkeypatch.setattr(socket, "create_connection", recording_connect)
    with pytest.raises(ConnectionRefusedError):
        webhooks.post(url="http://hooks.example.com/x", document={"text": "hi"}, secret="", key="k",
                      timeout=1, allow_private=False)
    assert connected == [("93.184.216.34", 80)]


def test_a_405_says_which_methods_are_allowed(client):
    """Finding 10 (part): the API's JSON 405 carries Allow, as HTTP asks."""
    response = client.delete("/api/v1/incidents")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_the_openapi_document_is_3_1_with_typed_paging(client):
    """Finding 10 (part): the document uses 3.1 constructs, so it says 3.1; limit is an integer."""
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    [limit] = [p for p in document["paths"]["/api/v1/incidents"]["get"]["parameters"] if p["name"] == "limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
    post = document["paths"]["/api/v1/incidents"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])


def test_path_ids_are_integers_in_the_openapi_document(client):
    """Finding 10 (rest): a statement id in a path is an integer from 1, not free text; names stay strings."""
    document = client.get("/api/v1/openapi.json").get_json()
    seen = 0
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if parameter["name"].endswith("_id"):
                    seen += 1
                    assert parameter["schema"]["type"] == "integer" and parameter["schema"]["minimum"] == 1, path
                    assert parameter["schema"]["maximum"] >= 2**31 - 1, path
                else:
                    assert parameter["schema"] == {"type": "string"}, (path, parameter["name"])
    assert seen >= 6


def test_a_path_id_outside_its_schema_is_a_404_not_a_500(team, synced, incident_factory, api_client):
    ref = incident_factory()
    viewer = api_client(team.viewer)
    for statement_id in ("0", str(2**63), "-1"):
        assert viewer.get(f"/api/v1/incidents/{ref}/statements/{statement_id}").status_code == 404
