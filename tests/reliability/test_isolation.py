"""
Item 12: interleaved requests never see each other's contextvars or request attributes.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.reliability.server import Server


async def _fire(server: Server, count: int) -> list[tuple[str, dict[str, str]]]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:

        async def one(i: int) -> tuple[str, dict[str, str]]:
            response = await client.get("/ident", params={"id": f"req-{i}"})
            assert response.status_code == 200
            return f"req-{i}", response.json()

        return await asyncio.gather(*(one(i) for i in range(count)))


def test_two_hundred_interleaved_requests_keep_their_own_ids(server: Server) -> None:
    results = asyncio.run(_fire(server, 200))
    assert len(results) == 200
    for own, body in results:
        assert body == {"contextvar": own, "attribute": own}
