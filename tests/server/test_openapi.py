"""/api/v1/openapi.json describes exactly the routes the server has under /api/v1."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable
from typing import Any

import requests
import schemathesis

from scheduling import CreateConference, CreateWebhook, SetRecommendationFields, SiteInfo
from scheduling.ward_records import FILE_TYPES
from server.app import ROUTE_TABLES
from server.web.contracts import CONTRACTS
from tests.fixtures.decks import deck_pdf

StartServer = Callable[..., Awaitable[Any]]


async def test_openapi_lists_every_api_route_and_nothing_else(server: StartServer) -> None:
    srv = await server(seed="small")
    doc = await srv.api().call("GET", "/openapi.json")
    assert doc["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for route in srv.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/v1/") and route.method != "HEAD":
            served.add((route.method, path))
    assert served == documented
    for path, ops in doc["paths"].items():
        params = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
        for op in ops.values():
            assert op["summary"] and op["operationId"]
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == params


async def test_every_route_has_its_contract(server: StartServer) -> None:
    """Bodies made from the handlers' own types, every answer (errors and 201s too), every
    query parameter, the right media types."""
    for table in ROUTE_TABLES:
        for route in table.routes:
            assert route.contract is not None or route.handler.__name__ in CONTRACTS, route.path
    srv = await server(seed="small")
    doc = await srv.api().call("GET", "/openapi.json")
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"400", "401", "403", "404", "409", "503"} <= codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path)
            if method in ("post", "put", "patch") and not path.endswith(("/revoke", "/reissue")):
                assert "requestBody" in op, f"{method} {path} documents no body"

    def body(method: str, path: str) -> dict[str, Any]:
        return doc["paths"][path][method]["requestBody"]["content"]

    assert set(body("post", "/api/v1/sites/import")) == {"text/csv"}
    assert {p["name"] for p in doc["paths"]["/api/v1/sites/import"]["post"]["parameters"]} >= {"dry_run", "Idempotency-Key"}
    created = body("post", "/api/v1/conferences")["application/json"]["schema"]
    fields = {f.name for f in dataclasses.fields(CreateConference)}
    assert set(created["properties"]) == fields and "key" not in created["required"]
    assert set(created["required"]) == {"conference_id", "title", "starts_at", "ends_at", "main_site", "chair"}
    assert created["additionalProperties"] is False and created["properties"]["starts_at"]["format"] == "date-time"
    site = body("put", "/api/v1/sites/{code}")["application/json"]["schema"]
    assert set(site["properties"]) == {f.name for f in dataclasses.fields(SiteInfo)} - {"code"} | {"key"}
    hook = body("post", "/api/v1/webhooks")["application/json"]["schema"]
    assert set(hook["properties"]) == {f.name for f in dataclasses.fields(CreateWebhook)}
    union = body("post", "/api/v1/conferences/{conf_id}/commands")["application/json"]["schema"]["oneOf"]
    assert len(union) > 30 and all(ref["$ref"].split("/")[-1] in schemas for ref in union)
    for path, status in (("/api/v1/conferences", "201"), ("/api/v1/sites", "201"), ("/api/v1/accounts", "201"),
                         ("/api/v1/webhooks", "201"), ("/api/v1/conferences/{conf_id}/follow-up", "201")):
        assert status in doc["paths"][path]["post"]["responses"], path
    events = {p["name"]: p for p in doc["paths"]["/api/v1/conferences/{conf_id}/events"]["get"]["parameters"]}
    assert events["after"]["schema"]["type"] == "integer" and events["limit"]["in"] == "query"
    assert {p["name"] for p in doc["paths"]["/api/v1/actions"]["get"]["parameters"]} == \
        {"conference", "site", "status", "overdue"}
    assert set(doc["paths"]["/api/v1/sites.csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    assert set(doc["paths"]["/api/v1/conferences/{conf_id}/minutes/{file}"]["get"]["responses"]["200"]["content"]) \
        == {"text/html", "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    # the routes added with the wards' documents, the register and the slide decks
    paths = doc["paths"]
    assert set(body("post", "/api/v1/conferences/{conf_id}/files")) == FILE_TYPES
    assert set(body("post", "/api/v1/conferences/{conf_id}/decks")) == {"application/pdf", "application/octet-stream"}
    assert {"201", "200", "415", "413"} <= set(paths["/api/v1/conferences/{conf_id}/decks"]["post"]["responses"])
    assert {"201", "415"} <= set(paths["/api/v1/conferences/{conf_id}/documents"]["post"]["responses"])
    assert set(paths["/api/v1/decks/{sha256}/{width}/{page}.webp"]["get"]["responses"]["200"]["content"]) == \
        {"image/webp"}
    assert set(paths["/api/v1/recommendations.csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    assert set(paths["/api/v1/recommendations.xlsx"]["get"]["responses"]["200"]["content"]) == \
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert set(body("put", "/api/v1/recommendation-fields")["application/json"]["schema"]["properties"]) == \
        {f.name for f in dataclasses.fields(SetRecommendationFields)}
    assert {p["name"] for p in paths["/api/v1/audit"]["get"]["parameters"]} == \
        {"stream", "actor", "type", "since", "until", "limit"}


async def test_the_answers_of_documents_decks_and_the_register_match_the_document(server: StartServer) -> None:
    """The contract run cannot make a real PDF, so here the secretary and the admin use these
    routes for real (an upload, a document, a deck and its page, the register, the
    organisation, the audit log) and every answer is checked against the document."""
    srv = await server(seed="small")
    doc = await srv.api().call("GET", "/openapi.json")
    schema = schemathesis.openapi.from_dict(doc)
    secretary, admin = srv.session("secretary"), srv.session("admin")
    conf = f"/conferences/{srv.conference}"
    pdf = deck_pdf(2)

    async def check(method: str, path: str, token: str, status: int, data: bytes | None = None,
                    json: Any = None, content_type: str = "application/pdf") -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if data is not None:
            headers["Content-Type"] = content_type
        resp = await asyncio.to_thread(requests.request, method, srv.base_url + "/api/v1" + path, data=data,
                                       json=json, headers=headers, timeout=60)
        assert resp.status_code == status, (method, path, resp.text[:300])
        template = next(p for p in doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), "/api/v1" +
                                                                  path.split("?")[0]))
        schema[template][method].validate_response(resp)
        return resp

    await check("POST", f"{conf}/files?name=b%C3%A1o-c%C3%A1o.pdf", secretary, 201, pdf)
    await check("POST", f"{conf}/files?name=anh.png", secretary, 415, b"<html>not an image</html>", content_type="image/png")
    added = (await check("POST", f"{conf}/documents?name=tai-lieu.pdf&item_id=muc-1", secretary, 201, pdf)).json()
    await check("GET", f"{conf}/documents", secretary, 200)
    await check("GET", f"{conf}/documents/{added['document_id']}", secretary, 200)
    ward = await srv.site_token("P-AN")
    await check("GET", f"{conf}/documents", ward, 200)
    await check("GET", f"{conf}/documents/{added['document_id']}?download=1", ward, 200)
    await check("GET", f"{conf}/documents", ward, 200)      # now with its receipt
    deck = (await check("POST", f"{conf}/decks?name=slides.pdf", secretary, 201, pdf)).json()
    await check("POST", f"{conf}/decks?name=slides.pdf", secretary, 200, pdf)
    await check("GET", f"{conf}/decks", secretary, 200)
    await check("GET", f"/decks/{deck['sha256']}/640/1.webp", secretary, 200)
    await check("GET", f"{conf}/recommendations/carry", secretary, 200)
    await check("POST", f"{conf}/recommendations/carry", secretary, 200, json={})
    for path in ("/recommendations", "/recommendations.csv", "/recommendations.xlsx?lang=en", "/recommendation-fields",
                 "/organisation", "/audit/streams", f"/audit?stream=conf-{srv.conference}&limit=5", "/audit.csv"):
        await check("GET", path, admin, 200)
    await check("PUT", "/recommendation-fields", admin, 200, json={"fields": ["Đất đai", "Giao thông"]})
    await check("PUT", "/organisation", admin, 200, json={"issuing_body": "VĂN PHÒNG", "symbol": "BB-VP"})
