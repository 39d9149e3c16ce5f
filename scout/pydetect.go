package scout

import (
	"cmp"
	"slices"
	"strings"
)

// foundTool is one tool definition a detector found in a source file.
type foundTool struct {
	Name      string // the tool's name as the agent sees it
	Framework string // langchain, mcp, openai_agents, ...
	Line      int
}

// frameworkOfModule maps an imported module to the framework it belongs to,
// by its first dotted (Python) or slash (JavaScript) segment.
func frameworkOfModule(module string) string {
	m := strings.TrimPrefix(module, "@")
	first, _, _ := strings.Cut(m, ".")
	first, _, _ = strings.Cut(first, "/")
	switch first {
	case "langchain", "langchain_core", "langchain_community", "langgraph":
		return "langchain"
	case "crewai", "crewai_tools":
		return "crewai"
	case "agents", "openai":
		if first == "openai" && !strings.Contains(m, "agents") {
			return ""
		}
		return "openai_agents"
	case "mcp", "fastmcp", "modelcontextprotocol":
		return "mcp"
	case "llama_index":
		return "llamaindex"
	case "strands":
		return "strands"
	case "smolagents":
		return "smolagents"
	case "pydantic_ai":
		return "pydantic_ai"
	case "autogen", "autogen_core", "autogen_agentchat", "autogen_ext":
		return "autogen"
	case "semantic_kernel":
		return "semantic_kernel"
	case "ai":
		return "vercel_ai"
	case "mastra":
		return "mastra"
	}
	return ""
}

// named drops the tools whose literal name is empty or blank.
func named(found []foundTool) []foundTool {
	return slices.DeleteFunc(found, func(f foundTool) bool { return strings.TrimSpace(f.Name) == "" })
}

// pyLine is one logical line of Python tokens and its indentation column.
type pyLine struct {
	toks   []token
	indent int
}

func splitPyLines(toks []token) []pyLine {
	lines := make([]pyLine, 0, len(toks)/8+1)
	start := 0
	for i, t := range toks {
		if t.kind != tNewline {
			continue
		}
		if i > start {
			lines = append(lines, pyLine{toks: toks[start:i:i], indent: int(toks[start].col)})
		}
		start = i + 1
	}
	if start < len(toks) {
		lines = append(lines, pyLine{toks: toks[start:], indent: int(toks[start].col)})
	}
	return lines
}

// detectPython finds the tool definitions in Python source:
//
//   - functions decorated with @tool, @tool("name"), @function_tool,
//     @kernel_function, or @<object>.tool / @<object>.tool() (FastMCP,
//     pydantic-ai agents); a string first argument or a name= (or
//     name_override=) keyword renames the tool;
//   - Tool(...), StructuredTool(...), StructuredTool.from_function(...),
//     Tool.from_function(...) and FunctionTool.from_defaults(...) calls
//     with a literal name="..." keyword, and <module>.Tool(name="...") when
//     the module was imported from mcp (the low-level MCP server's
//     list_tools);
//   - classes that subclass BaseTool and set name = "..." in their body.
//
// The framework comes from where the decorator or class was imported; a
// bare @tool with no import defaults to langchain.
func detectPython(src []byte) []foundTool {
	lines := splitPyLines(lexPython(src))
	imports := map[string]string{}   // local name -> framework
	aliases := map[string]string{}   // local name -> the imported name it renames
	receivers := map[string]string{} // variable -> framework of its constructor
	var out []foundTool
	type pending struct {
		name, framework string
		line            int
	}
	var decorators []pending
	for li, ln := range lines {
		t := ln.toks
		switch {
		case isName(t, 0, "from") || isName(t, 0, "import"):
			recordPyImport(t, imports, aliases)
			decorators = nil
			continue
		case isOp(t, 0, "@"):
			if d, ok := pyToolDecorator(t, imports, aliases, receivers); ok {
				decorators = append(decorators, pending{d.Name, d.Framework, int(t[0].line)})
			}
			continue
		case isName(t, 0, "def") || isName(t, 0, "async") && isName(t, 1, "def"):
			k := 1
			if isName(t, 0, "async") {
				k = 2
			}
			if k < len(t) && t[k].kind == tName {
				for _, d := range decorators {
					out = append(out, foundTool{Name: cmp.Or(d.name, t[k].text), Framework: d.framework, Line: d.line})
				}
			}
			decorators = nil
			continue
		case isName(t, 0, "class"):
			if len(decorators) == 0 {
				if f, ok := pyToolClass(lines, li, imports); ok {
					out = append(out, f)
				}
			}
			decorators = nil
			continue
		}
		decorators = nil
		// NAME = Constructor(...): remember which framework the object is from.
		if len(t) >= 3 && t[0].kind == tName && isOp(t, 1, "=") && t[2].kind == tName {
			if fw := imports[t[2].text]; fw != "" {
				receivers[t[0].text] = fw
			}
		}
		out = append(out, pyToolCalls(t, imports, aliases)...)
	}
	return named(out)
}

func isName(t []token, i int, s string) bool {
	return i >= 0 && i < len(t) && t[i].kind == tName && t[i].text == s
}

func isOp(t []token, i int, s string) bool {
	return i >= 0 && i < len(t) && t[i].kind == tOp && t[i].text == s
}

// recordPyImport notes the names an import line binds and their framework.
func recordPyImport(t []token, imports, aliases map[string]string) {
	if isName(t, 0, "import") {
		// import a.b as c, d
		for i := 1; i < len(t); {
			mod, j := dotted(t, i)
			if mod == "" {
				return
			}
			local, _, _ := strings.Cut(mod, ".")
			if isName(t, j, "as") && j+1 < len(t) && t[j+1].kind == tName {
				local = t[j+1].text
				j += 2
			}
			if fw := frameworkOfModule(mod); fw != "" {
				imports[local] = fw
			}
			if !isOp(t, j, ",") {
				return
			}
			i = j + 1
		}
		return
	}
	// from a.b import x as y, z
	i := 1
	for isOp(t, i, ".") {
		i++
	}
	mod, j := dotted(t, i)
	if !isName(t, j, "import") {
		return
	}
	fw := frameworkOfModule(mod)
	for k := j + 1; k < len(t); k++ {
		if t[k].kind != tName || t[k].text == "as" {
			continue
		}
		name := t[k].text
		if isName(t, k+1, "as") && k+2 < len(t) && t[k+2].kind == tName {
			aliases[t[k+2].text] = name
			name = t[k+2].text
			k += 2
		}
		if fw != "" {
			imports[name] = fw
		}
	}
}

// dotted reads NAME(.NAME)* at i and returns it and the index after it.
func dotted(t []token, i int) (string, int) {
	var parts []string
	for i < len(t) && t[i].kind == tName {
		parts = append(parts, t[i].text)
		i++
		if !isOp(t, i, ".") || i+1 >= len(t) || t[i+1].kind != tName {
			break
		}
		i++
	}
	return strings.Join(parts, "."), i
}

// pyToolDecorator recognises a tool decorator line (t[0] is "@") and
// returns the name it sets (empty: the function's name) and its framework.
func pyToolDecorator(t []token, imports, aliases, receivers map[string]string) (foundTool, bool) {
	path, j := dotted(t, 1)
	if path == "" {
		return foundTool{}, false
	}
	parts := strings.Split(path, ".")
	last := parts[len(parts)-1]
	if orig, ok := aliases[last]; ok && len(parts) == 1 {
		fw := imports[last]
		last, parts = orig, []string{orig}
		imports = map[string]string{orig: fw}
	}
	var fw string
	switch {
	case len(parts) == 1 && last == "tool":
		fw = cmp.Or(imports[last], "langchain")
	case len(parts) == 1 && last == "function_tool":
		fw = cmp.Or(imports[last], "openai_agents")
	case len(parts) == 1 && last == "kernel_function":
		fw = cmp.Or(imports[last], "semantic_kernel")
	case len(parts) >= 2 && (last == "tool" || last == "tool_plain"):
		fw = cmp.Or(receivers[parts[0]], imports[parts[0]], "mcp")
	default:
		return foundTool{}, false
	}
	name := ""
	if isOp(t, j, "(") {
		name = callName(t, j, true)
	}
	return foundTool{Name: name, Framework: fw}, true
}

// callName returns the literal tool name given to the call whose "(" is at
// t[open]: the name= (or name_override=) keyword, or with positional the
// first positional argument when it is a string literal.
func callName(t []token, open int, positional bool) string {
	depth := 0
	argStart := true
	first := true
	for k := open; k < len(t); k++ {
		tk := t[k]
		if tk.kind == tOp {
			switch tk.text {
			case "(", "[", "{":
				depth++
				if k != open {
					argStart = false
				}
				continue
			case ")", "]", "}":
				depth--
				if depth == 0 {
					return ""
				}
				continue
			case ",":
				if depth == 1 {
					argStart = true
					first = false
				}
				continue
			}
		}
		if depth != 1 || !argStart {
			continue
		}
		argStart = false
		if tk.kind == tName && (tk.text == "name" || tk.text == "name_override") && isOp(t, k+1, "=") &&
			k+2 < len(t) && t[k+2].kind == tString && t[k+2].lit && (k+3 >= len(t) || isOp(t, k+3, ",") || isOp(t, k+3, ")")) {
			return t[k+2].text
		}
		if positional && first && tk.kind == tString && tk.lit && (isOp(t, k+1, ",") || isOp(t, k+1, ")")) {
			return tk.text
		}
	}
	return ""
}

// pyToolCalls finds Tool(name="..."), StructuredTool.from_function(name=...),
// FunctionTool.from_defaults(name=...) and, with types imported from mcp,
// types.Tool(name="...") calls on one logical line.
func pyToolCalls(t []token, imports, aliases map[string]string) []foundTool {
	var out []foundTool
	for k := 0; k < len(t); k++ {
		if t[k].kind != tName {
			continue
		}
		if isOp(t, k-1, ".") {
			// types.Tool(name="...") of the MCP SDK's low-level server,
			// listed by its list_tools handler.
			if t[k].text == "Tool" && k >= 2 && t[k-2].kind == tName && imports[t[k-2].text] == "mcp" && isOp(t, k+1, "(") {
				if name := callName(t, k+1, false); name != "" {
					out = append(out, foundTool{Name: name, Framework: "mcp", Line: int(t[k].line)})
				}
			}
			continue
		}
		var fw string
		open := -1
		name := t[k].text
		if orig, ok := aliases[name]; ok {
			name = orig
		}
		switch name {
		case "Tool", "StructuredTool":
			fw = cmp.Or(imports[t[k].text], "langchain")
			if isOp(t, k+1, "(") {
				open = k + 1
			} else if isOp(t, k+1, ".") && isName(t, k+2, "from_function") && isOp(t, k+3, "(") {
				open = k + 3
			}
		case "FunctionTool":
			fw = cmp.Or(imports[t[k].text], "llamaindex")
			if isOp(t, k+1, ".") && isName(t, k+2, "from_defaults") && isOp(t, k+3, "(") {
				open = k + 3
			}
		}
		if open < 0 {
			continue
		}
		if name := callName(t, open, false); name != "" {
			out = append(out, foundTool{Name: name, Framework: fw, Line: int(t[k].line)})
		}
	}
	return out
}

// pyToolClass recognises class X(BaseTool): ... name = "x" (LangChain's
// and CrewAI's subclassing form) starting at lines[li].
func pyToolClass(lines []pyLine, li int, imports map[string]string) (foundTool, bool) {
	t := lines[li].toks
	if !isOp(t, 2, "(") {
		return foundTool{}, false
	}
	base := ""
	for k := 3; k < len(t) && !isOp(t, k, ")"); k++ {
		if t[k].kind == tName && (t[k].text == "BaseTool" || t[k].text == "StructuredTool") && !isOp(t, k+1, "=") {
			base = t[k].text
		}
	}
	if base == "" {
		return foundTool{}, false
	}
	fw := cmp.Or(imports[base], "langchain")
	indent, body := lines[li].indent, -1
	for _, ln := range lines[li+1:] {
		if ln.indent <= indent {
			break
		}
		if body < 0 {
			body = ln.indent
		}
		if ln.indent != body {
			continue // inside a method: a local variable, not the tool's name
		}
		b := ln.toks
		if !isName(b, 0, "name") {
			continue
		}
		k := 1
		if isOp(b, 1, ":") {
			for k = 2; k < len(b) && !isOp(b, k, "="); k++ {
			}
		}
		if isOp(b, k, "=") && k+1 < len(b) && b[k+1].kind == tString && b[k+1].lit && k+2 == len(b) {
			return foundTool{Name: b[k+1].text, Framework: fw, Line: int(t[0].line)}, true
		}
	}
	return foundTool{}, false
}
