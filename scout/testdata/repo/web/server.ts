import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

const server = new McpServer({ name: "billing", version: "1.0.0" });

server.tool("create_invoice", { amount: z.number() }, async ({ amount }) => ({
  content: [{ type: "text", text: `invoice for ${amount}` }],
}));

server.registerTool(
  "list_invoices",
  { description: "List invoices" },
  async () => ({ content: [] }),
);

// server.tool("commented_out", {}, async () => {});
/* server.tool("block_commented", {}, async () => {}); */
const doc = "server.tool('in_a_string', {})";
const tmpl = `server.tool("in_a_template", {}) ${server.name} server.tool("after_substitution")`;
const re = /server.tool\("in_a_regex"\)/g;
const ratio = total / count / 2; // division, not a regex: server.tool("x")
