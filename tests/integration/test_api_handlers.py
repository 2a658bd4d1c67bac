"""API functions' real lambda_handler, called with API Gateway events (moto in-process behind them)."""

from typing import Any

from tests.events import claims_of
from tests.integration.conftest import call_api


def test_health_and_subcategories(deployed: Any) -> None:
    call = call_api(deployed("PlatformApiFunction"))
    health = call("GET", "/health")
    assert (health.status, health.body) == (200, {"status": "ok"})
    subcategories = call("GET", "/subcategories")
    assert {"LIVRE_PAPIER", "ABO_BIBLIOTHEQUE", "RENCONTRE"} <= {item["id"] for item in subcategories.body["items"]}


def test_countermark_routes_take_an_api_key_context(deployed: Any) -> None:
    call = call_api(deployed("CounterApiFunction"))
    answer = call(
        "GET",
        "/v2/bookings/token/ABCDEF",
        resource="/v2/bookings/token/{token}",
        params={"token": "ABCDEF"},
        authorizer={"principalId": "apikey:k1", "offererId": "offerer-1", "apiKeyId": "k1"},
    )
    assert (answer.status, answer.body["code"]) == (404, "TOKEN_NOT_FOUND")  # let in: no such countermark
    refused = call(
        "GET",
        "/v2/bookings/token/ABCDEF",
        resource="/v2/bookings/token/{token}",
        params={"token": "ABCDEF"},
        claims=claims_of("beneficiary"),
    )
    assert refused.status == 403
