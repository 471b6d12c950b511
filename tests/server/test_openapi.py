"""/api/v1/openapi.json describes exactly the routes the server has under /api/v1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
