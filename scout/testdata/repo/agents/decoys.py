# Nothing in this file defines a tool.
# @tool
# def hash_comment(): pass
import tools


def tool(f):  # defining a function called tool is not using it
    return f


text = """
@mcp.tool()
def in_docstring(): pass
"""
call = "server.tool('in_python_string', {})"
obj.tool_count = 3
x = Tool  # no call, no name
y = Tool(name=some_variable)  # name is not a literal
z = Tool(name="a" + suffix)  # name is not a single literal
w = f"{Tool(name='in_fstring')}"
if a == b:
    pass
