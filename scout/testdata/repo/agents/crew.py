from crewai.tools import tool


@tool("Crew Search")
def crew_search(query: str) -> str:
    """Search the web."""
    return query
