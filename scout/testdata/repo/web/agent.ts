import { tool } from "ai";
import { tool as agentTool } from "@openai/agents";
import { DynamicStructuredTool } from "@langchain/core/tools";

const tools = {
  getWeather: tool({
    description: "Get the weather",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => `sunny in ${city}`,
  }),
  "transfer_funds": tool({ description: "Move money", execute: async () => "done" }),
};

const deleteFile = tool({ description: "Delete a file", execute: async () => "" });

const named = agentTool({
  name: "fetch_page",
  description: "Fetch a page",
  execute: async () => "",
});

const lc = new DynamicStructuredTool({
  name: "update_record",
  description: "Update a record",
  func: async () => "",
});

// tool({ name: "commented" })
const notATool = { name: "plain_object" };
const label = "tool({ name: 'in_a_string' })";
