package scout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// mcpServer is one MCP server a configuration file declares.
type mcpServer struct {
	Name string
}

// parseMCPConfig returns the MCP servers a JSON or YAML configuration file
// declares, by the shape every MCP client uses: a map of server name to a
// server object under
//
//   - "mcpServers" at the top level, in any file (Claude Desktop, Claude
//     Code's .mcp.json, Cursor, Windsurf, Cline, ...);
//   - "servers" at the top level, in a file whose name contains "mcp"
//     (VS Code's .vscode/mcp.json);
//   - "mcp" → "servers" (VS Code's settings.json) and "context_servers"
//     (Zed), in any file.
//
// JSON may carry comments and trailing commas (JSONC, as VS Code writes
// it). A file that parses as neither is not a configuration: it yields no
// servers and no error, since any JSON or YAML in a repository is looked at.
func parseMCPConfig(name string, data []byte) (servers []mcpServer) {
	defer func() {
		// yaml.v3 can panic on pathological input; such a file declares
		// nothing.
		if recover() != nil {
			servers = nil
		}
	}()
	var doc any
	ext := strings.ToLower(path.Ext(name))
	if ext == ".json" {
		if err := json.Unmarshal(data, &doc); err != nil {
			if err := json.Unmarshal(stripJSONC(data), &doc); err != nil {
				return nil
			}
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
	}
	top, ok := asMap(doc)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	add := func(v any) {
		m, ok := asMap(v)
		if !ok {
			return
		}
		for k, s := range m {
			if _, isObj := asMap(s); isObj && strings.TrimSpace(k) != "" && !seen[k] {
				seen[k] = true
				servers = append(servers, mcpServer{Name: k})
			}
		}
	}
	add(top["mcpServers"])
	add(top["context_servers"])
	if strings.Contains(strings.ToLower(path.Base(name)), "mcp") {
		add(top["servers"])
	}
	if m, ok := asMap(top["mcp"]); ok {
		add(m["servers"])
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	return servers
}

// asMap returns v as a string-keyed map; YAML maps with non-string keys
// have those keys rendered as text.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[fmt.Sprint(k)] = val
		}
		return out, true
	}
	return nil, false
}

// stripJSONC removes // and /* */ comments and then trailing commas
// outside strings, turning JSONC into JSON.
func stripJSONC(src []byte) []byte {
	return jsonOutsideStrings(jsonOutsideStrings(src, dropComment), dropTrailingComma)
}

// jsonOutsideStrings copies src, letting f rewrite the text outside JSON
// strings: f sees src and an offset and returns what to append and how
// many bytes it consumed (0 to copy one byte unchanged).
func jsonOutsideStrings(src []byte, f func(src []byte, i int) ([]byte, int)) []byte {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); {
		if src[i] == '"' {
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			out = append(out, src[i:j]...)
			i = j
			continue
		}
		repl, n := f(src, i)
		if n == 0 {
			out = append(out, src[i])
			i++
			continue
		}
		out = append(out, repl...)
		i += n
	}
	return out
}

func dropComment(src []byte, i int) ([]byte, int) {
	switch {
	case src[i] == '/' && i+1 < len(src) && src[i+1] == '/':
		n := bytes.IndexByte(src[i:], '\n')
		if n < 0 {
			n = len(src) - i
		}
		return nil, n
	case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
		n := bytes.Index(src[i+2:], []byte("*/"))
		if n < 0 {
			return nil, len(src) - i
		}
		return []byte(" "), n + 4
	}
	return nil, 0
}

func dropTrailingComma(src []byte, i int) ([]byte, int) {
	if src[i] != ',' {
		return nil, 0
	}
	rest := bytes.TrimLeft(src[i+1:], " \t\r\n")
	if len(rest) > 0 && (rest[0] == '}' || rest[0] == ']') {
		return []byte(" "), 1
	}
	return nil, 0
}
