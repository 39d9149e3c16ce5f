"""Tools of a small customer-support agent.

`gait scout snapshot --roots examples` lists them with a risk level, and
`--policy policies/agents.yaml` shows which ones the gate policy names.
"""
from langchain_core.tools import tool


@tool
def search(query: str) -> str:
    """Search the help-center articles."""
    return "articles about " + query


@tool
def fetch(url: str) -> str:
    """Fetch one help-center page."""
    return "page " + url


@tool("refund_payment")
def refund(order_id: str, amount_cents: int) -> str:
    """Refund part or all of an order."""
    return f"refunded {amount_cents} on {order_id}"
