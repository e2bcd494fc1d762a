"""The official MCP Python client (PyPI `mcp`) against cradle's /mcp.

Usage: client.py URL KEY. Connects twice, once with the initialize
handshake (mode "legacy", 2025-11-25) and once negotiating with
`server/discover` (mode "auto", 2026-07-28), lists the tools and searches;
then checks that a request without the key is refused. Prints one JSON
object for the Rust test to check.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def session(url: str, key: str, mode: str) -> dict:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    async with http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, raise_exceptions=True) as client:
            tools = await client.list_tools()
            found = await client.call_tool("search_products", {"query": "LW-100234", "limit": 3})
            if found.is_error:
                raise SystemExit(f"search_products failed: {found}")
            hits = [hit["article_no"] for hit in found.structured_content["hits"]]
            info = client.server_info
            return {
                "protocol_version": client.protocol_version,
                "server": info.name if info is not None else None,
                "tools": [tool.name for tool in tools.tools],
                "hits": hits,
            }


async def main() -> None:
    url, key = sys.argv[1], sys.argv[2]
    legacy = await session(url, key, "legacy")
    modern = await session(url, key, "auto")
    async with httpx2.AsyncClient() as http:
        refused = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"Accept": "application/json, text/event-stream"},
        )
    report = {
        "server": legacy["server"] or modern["server"],
        "tools": legacy["tools"],
        "hits": legacy["hits"],
        "legacy": legacy,
        "modern": modern,
        "unauthorized": refused.status_code == 401,
    }
    if legacy["tools"] != modern["tools"] or legacy["hits"] != modern["hits"]:
        raise SystemExit(f"the two protocol versions disagree: {json.dumps(report)}")
    print(json.dumps(report))


asyncio.run(main())
