from agents import Agent, function_tool


@function_tool
def get_weather(city: str) -> str:
    return "sunny"


@function_tool(name_override="execute_shell")
def run(cmd: str) -> str:
    return cmd


def helper():  # a plain function in a file with tools is not a tool
    return Agent(name="helper_agent", tools=[get_weather])
