from mcp import types
from mcp.server.lowlevel import Server

server = Server("warehouse")


@server.list_tools()
async def list_tools() -> list[types.Tool]:
    return [
        types.Tool(name="query_stock", description="Read stock levels", inputSchema={}),
    ]


@server.call_tool()
async def call_tool(name: str, arguments: dict) -> list[types.TextContent]:
    # dispatches by name; the names are the ones list_tools returns
    return []
