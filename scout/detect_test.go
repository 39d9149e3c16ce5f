package scout

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func names(found []foundTool) []string {
	var out []string
	for _, f := range found {
		out = append(out, f.Framework+":"+f.Name)
	}
	slices.Sort(out)
	return out
}

func TestDetectPython(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"bare decorator", "@tool\ndef a(): pass\n", []string{"langchain:a"}},
		{"decorator name", "@tool('b_name')\ndef b(): pass\n", []string{"langchain:b_name"}},
		{"decorator keyword", "@tool(name=\"c\", return_direct=True)\ndef x(): pass\n", []string{"langchain:c"}},
		{"async def", "@tool\nasync def d(): pass\n", []string{"langchain:d"}},
		{"stacked decorators", "@tool\n@other\ndef e(): pass\n", []string{"langchain:e"}},
		{"crewai import", "from crewai.tools import tool\n@tool('Search')\ndef s(): pass\n", []string{"crewai:Search"}},
		{"aliased import", "from langchain.tools import tool as lc_tool\n@lc_tool\ndef f(): pass\n", []string{"langchain:f"}},
		{"function_tool", "@function_tool\ndef g(): pass\n", []string{"openai_agents:g"}},
		{"name_override", "@function_tool(name_override='h2')\ndef h(): pass\n", []string{"openai_agents:h2"}},
		{"fastmcp", "mcp = FastMCP('x')\n@mcp.tool()\ndef i(): pass\n", []string{"mcp:i"}},
		{"nested object", "class S:\n    @self.mcp.tool()\n    def j2(self): pass\n", []string{"mcp:j2"}},
		{"pydantic-ai agent", "from pydantic_ai import Agent\nagent = Agent('m')\n@agent.tool_plain\ndef j(): pass\n", []string{"pydantic_ai:j"}},
		{"Tool call", "t = Tool(name='k', func=f)\n", []string{"langchain:k"}},
		{"from_function", "t = StructuredTool.from_function(func=f,\n    name='l')\n", []string{"langchain:l"}},
		{"llamaindex", "t = FunctionTool.from_defaults(fn=f, name='m')\n", []string{"llamaindex:m"}},
		{"BaseTool class", "class N(BaseTool):\n    name: str = 'n'\n    def _run(self):\n        name = 'inner'\n", []string{"langchain:n"}},
		{"BaseTool method first", "class N2(BaseTool):\n    def _run(self):\n        name = 'local'\n    name = 'n2'\n", []string{"langchain:n2"}},
		{"continuation", "t = Tool(\\\n name='o')\n", []string{"langchain:o"}},
		{"comment", "# @tool\n# def a(): pass\n", nil},
		{"string", "s = '@tool\\ndef a(): pass'\n", nil},
		{"triple string", "s = '''\n@tool\ndef a(): pass\n'''\n", nil},
		{"raw string escape", "s = r'\\'@tool'\ndef a(): pass\n", nil},
		{"fstring nested quotes", "s = f\"{x[\"a\"]} @tool\"\ndef a(): pass\n", nil},
		{"fstring nested call", "s = f'{Tool(name=\"p\")}'\n", nil},
		{"bytes", "s = b'Tool(name=\"q\")'\n", nil},
		{"non-literal name", "t = Tool(name=n)\nu = Tool(name='a' + b)\nv = Tool(name=f'x')\n", nil},
		{"comparison not keyword", "t = Tool(name == 'r')\n", nil},
		{"attribute not class", "t = lib.Tool(name='s')\n", nil},
		{"mcp low-level", "from mcp import types\nreturn [types.Tool(name='t', inputSchema={})]\n", []string{"mcp:t"}},
		{"resource decorator", "@mcp.resource('x')\ndef a(): pass\n", nil},
		{"decorated class", "@tool\nclass A: pass\n", nil},
		{"decorator then statement", "@tool\nx = 1\ndef a(): pass\n", nil},
		{"unterminated", "s = 'abc\n@tool\ndef a(): pass\n", []string{"langchain:a"}},
		{"unterminated triple", "s = '''abc\n@tool\ndef a(): pass\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(detectPython([]byte(tc.src))); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v\nsource:\n%s", got, tc.want, tc.src)
			}
		})
	}
}

func TestDetectTS(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"server.tool", "server.tool('a', {}, async () => ({}))", []string{"mcp:a"}},
		{"registerTool", "server.registerTool(\"b\", {}, cb)", []string{"mcp:b"}},
		{"optional chain", "server?.tool('c', cb)", []string{"mcp:c"}},
		{"ai property key", "import { tool } from 'ai'\nconst t = { d: tool({ execute }) }", []string{"vercel_ai:d"}},
		{"ai string key", "const t = { 'e-f': tool({}), }", []string{"js:e-f"}},
		{"ai const", "const g = tool({ description: 'x' })", []string{"js:g"}},
		{"agents name", "import { tool } from '@openai/agents'\ntool({ name: 'h', execute })", []string{"openai_agents:h"}},
		{"aliased", "import { tool as t2 } from '@openai/agents'\nt2({ name: 'i' })", []string{"openai_agents:i"}},
		{"require alias", "const { tool: t3 } = require('ai')\nconst j = t3({})", []string{"vercel_ai:j"}},
		{"mastra", "createTool({ id: 'k', execute })", []string{"js:k"}},
		{"langchain", "new DynamicStructuredTool({ name: 'l', func })", []string{"langchain:l"}},
		{"nested name ignored", "tool({ schema: { name: 'inner' } })", nil},
		{"line comment", "// server.tool('a', cb)", nil},
		{"block comment", "/* server.tool('a', cb) */", nil},
		{"string", "x = \"server.tool('a', cb)\"", nil},
		{"template", "x = `server.tool('a', cb)`", nil},
		{"template substitution", "x = `${y} server.tool('a') ${`inner ${z}`}`", nil},
		{"code in substitution", "x = `${server.tool('m', cb)}`", []string{"mcp:m"}},
		{"regex", "x = /server.tool('a')/g", nil},
		{"regex with slash in class", "x = /[/]server.tool('a')/", nil},
		{"division", "x = a / b; server.tool('n', cb) / 2", []string{"mcp:n"}},
		{"non-literal name", "server.tool(name, cb); server.tool(`o${x}`, cb)", nil},
		{"template literal name", "server.tool(`p`, cb)", []string{"mcp:p"}},
		{"member tool not bare", "obj.tool({ name: 'q' })", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(detectTS([]byte(tc.src))); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v\nsource:\n%s", got, tc.want, tc.src)
			}
		})
	}
}

func TestParseMCPConfig(t *testing.T) {
	for _, tc := range []struct {
		file, src string
		want      []string
	}{
		{".mcp.json", `{"mcpServers": {"a": {"command": "x"}, "b": {}}}`, []string{"a", "b"}},
		{"mcp.json", `{"servers": {"c": {"type": "stdio"}}}`, []string{"c"}},
		{"config.json", `{"servers": {"web": {"port": 80}}}`, nil},
		{"settings.json", `{"mcp": {"servers": {"d": {}}}}`, []string{"d"}},
		{"zed.json", `{"context_servers": {"e": {}}}`, []string{"e"}},
		{"x.yaml", "mcpServers:\n  f:\n    command: x\n", []string{"f"}},
		{"x.yml", "mcpServers:\n  1: {}\n", []string{"1"}},
		{"jsonc.json", "{\n // comment\n \"mcpServers\": {\"g\": {},}, /* more */\n}", []string{"g"}},
		{"comment in string.json", `{"mcpServers": {"h // not a comment": {}}}`, []string{"h // not a comment"}},
		{"list.json", `{"mcpServers": ["a"]}`, nil},
		{"scalar.json", `{"mcpServers": {"a": "not an object"}}`, nil},
		{"array.json", `[{"mcpServers": {"a": {}}}]`, nil},
		{"broken.json", `{"mcpServers": {"a":`, nil},
		{"broken.yaml", "mcpServers: [\n", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got []string
			for _, s := range parseMCPConfig(tc.file, []byte(tc.src)) {
				got = append(got, s.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// commentEveryLine prefixes every line with a comment marker: the result
// holds no code at all, so no detector may find anything in it.
func commentEveryLine(src []byte, marker string) []byte {
	lines := strings.Split(strings.ReplaceAll(string(src), "\r", ""), "\n")
	for i, l := range lines {
		lines[i] = marker + l
	}
	return []byte(strings.Join(lines, "\n"))
}

func FuzzDetectPython(f *testing.F) {
	addSeeds(f, "py")
	f.Fuzz(func(t *testing.T, src []byte) {
		found := detectPython(src)
		if !slices.Equal(found, detectPython(src)) {
			t.Fatal("detection is not deterministic")
		}
		for _, tool := range found {
			if tool.Name == "" || tool.Framework == "" {
				t.Fatalf("empty name or framework: %+v", tool)
			}
		}
		if got := detectPython(commentEveryLine(src, "#")); len(got) > 0 {
			t.Fatalf("found %v in a fully commented-out file", got)
		}
		checkLines(t, lexPython(src))
	})
}

func FuzzDetectTS(f *testing.F) {
	addSeeds(f, "ts")
	f.Fuzz(func(t *testing.T, src []byte) {
		found := detectTS(src)
		for _, tool := range found {
			if tool.Name == "" || tool.Framework == "" {
				t.Fatalf("empty name or framework: %+v", tool)
			}
		}
		if !strings.Contains(string(src), "\u2028") && !strings.Contains(string(src), "\u2029") {
			if got := detectTS(commentEveryLine(src, "//")); len(got) > 0 {
				t.Fatalf("found %v in a fully commented-out file", got)
			}
		}
		checkLines(t, lexTS(src))
	})
}

// checkLines asserts token lines never go backwards.
func checkLines(t *testing.T, toks []token) {
	t.Helper()
	for i := 1; i < len(toks); i++ {
		if toks[i].kind != tNewline && toks[i-1].kind != tNewline && toks[i].line < toks[i-1].line {
			t.Fatalf("token %d (%q) on line %d after line %d", i, toks[i].text, toks[i].line, toks[i-1].line)
		}
	}
}

func FuzzParseMCPConfig(f *testing.F) {
	addSeeds(f, "config")
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, name := range []string{"mcp.json", "mcp.yaml"} {
			servers := parseMCPConfig(name, src)
			if !slices.IsSortedFunc(servers, func(a, b mcpServer) int { return strings.Compare(a.Name, b.Name) }) {
				t.Fatalf("%s: servers not sorted: %v", name, servers)
			}
			for _, s := range servers {
				if strings.TrimSpace(s.Name) == "" {
					t.Fatalf("%s: empty server name", name)
				}
			}
		}
		if stripped := stripJSONC(src); len(stripped) > len(src) {
			t.Fatalf("stripJSONC grew %d bytes to %d", len(src), len(stripped))
		}
	})
}

// addSeeds seeds a fuzz target with the fixture repository's files of a
// kind and a few hand-written edge cases.
func addSeeds(f *testing.F, kind string) {
	f.Helper()
	for _, p := range fixtureFiles(f, kind) {
		f.Add(p)
	}
	for _, s := range []string{"", "'", "\"\"\"", "f'{", "f'{\"", "`${", "`${`${", "/", "/[", "@", "@tool(", "tool({", "{", "#", "//", "/*", "\\", "\r\n"} {
		f.Add([]byte(s))
	}
}

func fixtureFiles(f testing.TB, kind string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, it := range walkFixture(f) {
		if sourceKind(it.name) == kind {
			out = append(out, it.data)
		}
	}
	if len(out) == 0 {
		panic(fmt.Sprintf("no %s fixtures", kind))
	}
	return out
}
