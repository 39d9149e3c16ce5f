"""Support agent tools.

@tool
def docstring_decoy(): a tool in a docstring is not a tool.
"""
from langchain_core.tools import BaseTool, StructuredTool, tool


@tool
def search_orders(customer_id: str) -> str:
    """Look up a customer's orders."""
    return f"orders for {customer_id}"


@tool("refund_payment", return_direct=True)
def refund(order_id: str) -> str:
    """Refund an order."""
    return "ok"


@tool(
    name="send_email",  # named by keyword, across lines
)
async def mail(to: str, body: str) -> str:
    return f"{'sent' if to else "nothing"} to {to!r}"  # nested quotes (Python 3.12)


def lookup(x):
    return x


lookup_tool = StructuredTool.from_function(func=lookup, name="lookup_inventory", description="read")


class DeleteCustomer(BaseTool):
    name: str = "delete_customer"
    description: str = "Delete a customer record"

    def _run(self, customer_id: str) -> str:
        name = "not_this_one"
        return name


# @tool
# def commented_out(): ...
s = "@tool\ndef in_a_string(): pass"
t = '''
@tool
def in_a_triple_string():
    pass
'''
u = r"Tool(name='in_a_raw_string')"
