package scout

import "cmp"

// detectTS finds the tool definitions in TypeScript or JavaScript source:
//
//   - <object>.tool("name", ...) and <object>.registerTool("name", ...)
//     (the MCP TypeScript SDK's McpServer);
//   - tool({ name: "x", ... }) (OpenAI Agents SDK) and tool({ ... }) whose
//     name is the property key (tools: { weather: tool({...}) }) or the
//     variable it is assigned to (const weather = tool({...})), as the
//     Vercel AI SDK names tools; createTool({ id: "x" }) (Mastra);
//   - new DynamicTool({ name: "x" }), new DynamicStructuredTool({ name: "x" })
//     and new StructuredTool/FunctionTool({ name: "x" }) (LangChain.js).
//
// Only literal names count; the framework comes from the import of the
// function or class.
func detectTS(src []byte) []foundTool {
	t := lexTS(src)
	imports, aliases := tsImports(t)
	var out []foundTool
	for k := 0; k < len(t); k++ {
		tk := t[k]
		if tk.kind != tName {
			continue
		}
		fwOf := imports[tk.text]
		if orig, ok := aliases[tk.text]; ok {
			tk.text = orig // import { tool as agentTool }: agentTool( is tool(
		}
		afterDot := isOp(t, k-1, ".") || isOp(t, k-1, "?.")
		switch {
		case afterDot && (tk.text == "tool" || tk.text == "registerTool") && isOp(t, k+1, "(") &&
			k+2 < len(t) && t[k+2].kind == tString && t[k+2].lit && (isOp(t, k+3, ",") || isOp(t, k+3, ")")):
			out = append(out, foundTool{Name: t[k+2].text, Framework: cmp.Or(imports["McpServer"], "mcp"), Line: int(tk.line)})
		case !afterDot && (tk.text == "tool" || tk.text == "createTool") && isOp(t, k+1, "(") && isOp(t, k+2, "{"):
			key := "name"
			if tk.text == "createTool" {
				key = "id"
			}
			name := objectString(t, k+2, key)
			if name == "" && tk.text == "tool" {
				name = boundName(t, k)
			}
			if name != "" {
				out = append(out, foundTool{Name: name, Framework: cmp.Or(fwOf, "js"), Line: int(tk.line)})
			}
		case isName(t, k-1, "new") && isLangChainJSTool(tk.text) && isOp(t, k+1, "(") && isOp(t, k+2, "{"):
			if name := objectString(t, k+2, "name"); name != "" {
				out = append(out, foundTool{Name: name, Framework: cmp.Or(fwOf, "langchain"), Line: int(tk.line)})
			}
		}
	}
	return named(out)
}

func isLangChainJSTool(s string) bool {
	switch s {
	case "DynamicTool", "DynamicStructuredTool", "StructuredTool", "FunctionTool":
		return true
	}
	return false
}

// tsImports maps the local names bound by import declarations and
// require() destructurings to the framework of their module, and renamed
// imports (import { a as b }, const { a: b } = require()) to the name they
// rename.
func tsImports(t []token) (imports, aliases map[string]string) {
	imports, aliases = map[string]string{}, map[string]string{}
	for k := 0; k < len(t); k++ {
		switch {
		case isName(t, k, "import") && !isOp(t, k+1, "(") && !isOp(t, k+1, "."):
			// import a, { b as c } from "m";  import * as d from "m"
			var names []string
			j := k + 1
			for ; j < len(t) && !isName(t, j, "from") && !isOp(t, j, ";") && t[j].kind != tString; j++ {
				if t[j].kind != tName || t[j].text == "type" {
					continue
				}
				if isName(t, j+1, "as") && j+2 < len(t) && t[j+2].kind == tName {
					aliases[t[j+2].text] = t[j].text
					names = append(names, t[j+2].text)
					j += 2
					continue
				}
				names = append(names, t[j].text)
			}
			if isName(t, j, "from") && j+1 < len(t) && t[j+1].kind == tString {
				bind(imports, names, t[j+1].text)
			}
			k = j
		case isName(t, k, "require") && isOp(t, k+1, "(") && k+2 < len(t) && t[k+2].kind == tString && isOp(t, k-1, "="):
			// const { a, b: c } = require("m")
			var names []string
			for j := k - 2; j >= 0 && !isName(t, j, "const") && !isName(t, j, "let") && !isName(t, j, "var"); j-- {
				if t[j].kind != tName || isOp(t, j+1, ":") {
					continue
				}
				if isOp(t, j-1, ":") && j >= 2 && t[j-2].kind == tName {
					aliases[t[j].text] = t[j-2].text
				}
				names = append(names, t[j].text)
			}
			bind(imports, names, t[k+2].text)
		}
	}
	return imports, aliases
}

func bind(imports map[string]string, names []string, module string) {
	fw := frameworkOfModule(module)
	if fw == "" {
		return
	}
	for _, n := range names {
		imports[n] = fw
	}
}

// objectString returns the literal string value of key in the object
// literal opening at t[open] ("{"), looking only at its own properties.
func objectString(t []token, open int, key string) string {
	depth := 0
	for k := open; k < len(t); k++ {
		if t[k].kind == tOp {
			switch t[k].text {
			case "{", "(", "[":
				depth++
				continue
			case "}", ")", "]":
				depth--
				if depth == 0 {
					return ""
				}
				continue
			}
		}
		if depth != 1 || !(isOp(t, k-1, "{") || isOp(t, k-1, ",")) {
			continue
		}
		isKey := t[k].kind == tName && t[k].text == key || t[k].kind == tString && t[k].lit && t[k].text == key
		if isKey && isOp(t, k+1, ":") && k+2 < len(t) && t[k+2].kind == tString && t[k+2].lit &&
			(isOp(t, k+3, ",") || isOp(t, k+3, "}")) {
			return t[k+2].text
		}
	}
	return ""
}

// boundName is the name a tool(...) call at t[k] is bound to: the property
// key in `key: tool(...)` or the variable in `const name = tool(...)`.
func boundName(t []token, k int) string {
	if isOp(t, k-1, ":") && k >= 2 && (t[k-2].kind == tName || t[k-2].kind == tString && t[k-2].lit) &&
		(isOp(t, k-3, "{") || isOp(t, k-3, ",")) {
		return t[k-2].text
	}
	if isOp(t, k-1, "=") && k >= 3 && t[k-2].kind == tName &&
		(isName(t, k-3, "const") || isName(t, k-3, "let") || isName(t, k-3, "var")) {
		return t[k-2].text
	}
	return ""
}
