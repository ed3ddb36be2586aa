"""`tenet serve` as a client sees it: a real uvicorn server on 127.0.0.1, each answer's status
and body, the audit record behind every 200, and bad input refused with words while the service
keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import engine
from engine.serve.app import create_app
from engine.serve.audit import AuditStore
from engine.serve.catalog import Catalog, CatalogError
from tests.helpers import ROOT, invoke
from tests.serve.harness import STRONG_PAYER, Server


@pytest.fixture
def service(versions: Path, database: str) -> Iterator[tuple[httpx.Client, AuditStore]]:
    """The service on both databases."""
    store = AuditStore(database)
    with Server(create_app(Catalog.load(versions), store, max_body=20_000)) as client:
        yield client, store
    store.close()


def _decide(client: httpx.Client, body: dict, name: str = "limit_review") -> httpx.Response:
    return client.post(f"/v1/rulesets/{name}/decisions", json=body)


def test_a_decision_is_the_one_tenet_run_makes_and_is_recorded(service) -> None:
    client, store = service
    answer = _decide(client, {"facts": STRONG_PAYER, "as_of": "2026-12-15",
                              "request_id": "req-1"})
    assert answer.status_code == 200
    data = answer.json()
    expected = json.loads(engine.load(ROOT / "rulesets/limit_review.rules").decide(
        STRONG_PAYER, "2026-12-15", trace=False).to_json())
    assert data["decision"] == expected["decision"] == {"action": "increase", "new_limit": 200_000}
    assert data["reasons"] == expected["reasons"]
    assert "trace" not in data
    record = client.get(f"/v1/decisions/{data['decision_id']}").json()
    assert record["request_id"] == "req-1" and record["as_of"] == "2026-12-15"
    assert record["ruleset"]["version"] == "2026.12.1"
    assert record["decision"] == data["decision"]
    assert store.verify_chain() == (1, None)


def test_the_version_in_effect_on_the_as_of_date_decides(service) -> None:
    client, _ = service
    facts = json.loads(json.dumps(STRONG_PAYER))
    facts["customer"].update(behavior_score=739, balance=facts["customer"]["current_limit"] * 0.75)
    december = _decide(client, {"facts": facts, "as_of": "2026-12-31"}).json()
    january = _decide(client, {"facts": facts, "as_of": "2027-01-01"}).json()
    assert december["ruleset"]["version"] == "2026.12.1"
    assert january["ruleset"]["version"] == "2027.1.0"
    assert december["decision"]["new_limit"] != january["decision"]["new_limit"]  # 1.3x, 1.1x
    early = _decide(client, {"facts": facts, "as_of": "2026-11-30"})
    assert early.status_code == 422
    assert "no version of ruleset `limit_review` is in effect on 2026-11-30" in early.json()["error"]


def test_bad_requests_are_refused_with_words_and_the_service_keeps_serving(service) -> None:
    client, store = service
    bad_facts = json.loads(json.dumps(STRONG_PAYER))
    bad_facts["customer"]["current_limit"] = "ten"
    del bad_facts["customer"]["balance"]
    answer = _decide(client, {"facts": bad_facts, "as_of": "2026-12-15"})
    assert answer.status_code == 422
    assert answer.json()["problems"] == ["customer.current_limit: expected money, got \"ten\"",
                                         "customer.balance: required field is missing"]
    cases = [
        (client.post("/v1/rulesets/limit_review/decisions", content=b"{not json",
                     headers={"content-type": "application/json"}), 400, "not JSON"),
        (client.post("/v1/rulesets/limit_review/decisions", content=b"[]",
                     headers={"content-type": "application/json"}), 400, "a JSON object"),
        (client.post("/v1/rulesets/limit_review/decisions", content=b"facts=1",
                     headers={"content-type": "text/plain"}), 415, "as JSON"),
        (_decide(client, {"facts": STRONG_PAYER, "extra": 1}), 400, "unknown field 'extra'"),
        (_decide(client, {"facts": STRONG_PAYER, "as_of": "2026-02-30"}), 422, "as_of"),
        (_decide(client, {"facts": STRONG_PAYER}, name="nope"), 404, "no ruleset `nope`"),
        (client.post("/v1/rulesets/limit_review/decisions", content=b"[" * 30_000,
                     headers={"content-type": "application/json"}), 413, "over 20,000 bytes"),
        (client.post("/v1/rulesets/limit_review/decisions",
                     content=b"[" * 5_000 + b"]" * 5_000,
                     headers={"content-type": "application/json"}), 400, "JSON"),
        (client.get("/v1/decisions/unknown-id"), 404, "no decision"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, (answer.status_code, answer.text)
        assert words in answer.json()["error"], answer.json()
        assert "Traceback" not in answer.text
    assert _decide(client, {"facts": STRONG_PAYER, "as_of": "2026-12-15"}).status_code == 200
    assert store.verify_chain() == (1, None)  # only the decision was recorded
    metrics = client.get("/metrics").text
    assert 'tenet_refusals_total{status="422"} 2' in metrics
    assert 'tenet_decisions_total{ruleset="limit_review",version="2026.12.1",outcome="increase"} 1' \
        in metrics


def test_rulesets_health_and_openapi(service) -> None:
    client, _ = service
    listed = {r["name"]: r for r in client.get("/v1/rulesets").json()["rulesets"]}
    assert [v["version"] for v in listed["limit_review"]["versions"]] == ["2026.12.1", "2027.1.0"]
    first = listed["limit_review"]["versions"][0]
    assert (first["effective"], first["until"]) == ("2026-12-01", "2027-01-01")
    assert first["outputs"] == ["action", "new_limit"]
    assert "customer" in json.dumps(first["facts_schema"])
    assert client.get("/healthz").json()["status"] == "ok"
    assert "/v1/rulesets/{name}/decisions" in client.get("/openapi.json").json()["paths"]


def test_many_clients_at_once_get_the_decisions_made_one_by_one(service) -> None:
    client, store = service
    ruleset = engine.load(ROOT / "rulesets/limit_review.rules")
    customers = []
    for index in range(40):
        facts = json.loads(json.dumps(STRONG_PAYER))
        facts["customer"]["balance"] = 10_000 + index * 3_500
        customers.append(facts)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda f: _decide(client, {"facts": f, "as_of": "2026-12-15"}),
                                customers))
    for facts, answer in zip(customers, answers, strict=True):
        alone = ruleset.decide(facts, "2026-12-15", trace=False)
        assert answer.status_code == 200
        assert answer.json()["reasons"] == alone.to_data()["reasons"]
    assert store.verify_chain() == (40, None)
    assert invoke("replay", "--db", store.url) == (
        0, "40 decisions replayed: 40 identical, 0 different\n")


def test_a_token_is_required_when_configured(versions: Path, tmp_path: Path) -> None:
    store = AuditStore(str(tmp_path / "audit.db"))
    with Server(create_app(Catalog.load(versions), store, token="s3cret")) as client:
        assert _decide(client, {"facts": STRONG_PAYER}).status_code == 401
        assert client.get("/healthz").status_code == 200
        answer = client.post("/v1/rulesets/limit_review/decisions",
                             json={"facts": STRONG_PAYER, "as_of": "2026-12-15"},
                             headers={"authorization": "Bearer s3cret"})
        assert answer.status_code == 200
    store.close()


def test_a_folder_that_cannot_be_served_is_refused_naming_why(versions: Path) -> None:
    text = (versions / "cross_sell.rules").read_text(encoding="utf-8")
    (versions / "cross_sell.rules").write_text(text.replace(
        'expect channel = "app"\n  expect reasons = [P01]', 'expect channel = "sms"\n  '
        'expect reasons = [P01]', 1), encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        Catalog.load(versions)
    assert any("cross_sell.rules" in p and "fails" in p for p in refused.value.problems)
    status, output = invoke("serve", str(versions), "--port", "0")
    assert status == 2 and "not served (1 problem)" in output


CONFLICTING = """ruleset conflicting

facts c
  x: integer
end

outputs
  days: integer combine unique default 0
end

rule A when c.x > 1 then
  set days = 1
end

rule B when c.x > 2 then
  set days = 2
end
"""


def test_a_conflict_is_409_naming_the_rules_and_nothing_is_recorded(tmp_path: Path) -> None:
    folder = tmp_path / "conflicting"
    folder.mkdir()
    (folder / "conflicting.rules").write_text(CONFLICTING, encoding="utf-8")
    store = AuditStore(str(tmp_path / "audit.db"))
    with Server(create_app(Catalog.load(folder), store)) as client:
        answer = _decide(client, {"facts": {"c": {"x": 3}}, "as_of": "2026-12-01"},
                         name="conflicting")
        assert answer.status_code == 409
        assert answer.json() == {"error": "output `days` is `combine unique` but has several "
                                          "proposals: rule `A` (1), rule `B` (2)"}
        decided = _decide(client, {"facts": {"c": {"x": 2}}, "as_of": "2026-12-01",
                                   "why_not": "B", "trace": True}, name="conflicting")
        assert decided.status_code == 200
        assert decided.json()["decision"] == {"days": 1}
        assert decided.json()["why_not"]["status"] == "not matched"
        assert [event["name"] for event in decided.json()["trace"]
                if event["event"] == "rule"] == ["A", "B"]
    assert store.verify_chain() == (1, None)
    store.close()
