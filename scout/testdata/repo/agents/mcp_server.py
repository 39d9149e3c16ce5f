from mcp.server.fastmcp import FastMCP

mcp = FastMCP("files")


@mcp.tool()
def read_file(path: str) -> str:
    return open(path).read()


@mcp.tool(name="write_file")
def write(path: str, data: str) -> None:
    open(path, "w").write(data)


@mcp.resource("config://app")
def config() -> str:  # a resource, not a tool
    return "{}"


@mcp.prompt()
def review_prompt() -> str:  # a prompt, not a tool
    return "review"
