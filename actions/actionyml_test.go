package actions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type actionYML struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
}

var releasedImage = regexp.MustCompile(`^docker://ghcr\.io/gait-dev/gait:v[0-9]+\.[0-9]+\.[0-9]+$`)

// TestActionYML checks action.yml against the code: every input the code
// reads is declared and vice versa, the same for outputs, with the
// defaults the code assumes.
func TestActionYML(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Name == "" || a.Description == "" || a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Errorf("name, description and branding are required: %+v", a)
	}
	// The action runs its release's published image, never a build per job.
	if a.Runs.Using != "docker" || !releasedImage.MatchString(a.Runs.Image) || !slices.Equal(a.Runs.Args, []string{"action", "regress"}) {
		t.Errorf("runs = %+v, want docker, %s, [action regress]", a.Runs, releasedImage)
	}

	read, set := inputsAndOutputsInCode(t)
	if got := sortedKeys(a.Inputs); !slices.Equal(got, sorted(Inputs)) || !slices.Equal(read, sorted(Inputs)) {
		t.Errorf("inputs: action.yml %v, code reads %v, Inputs %v", got, read, sorted(Inputs))
	}
	if got := sortedKeys(a.Outputs); !slices.Equal(got, sorted(Outputs)) || !slices.Equal(set, sorted(Outputs)) {
		t.Errorf("outputs: action.yml %v, code sets %v, Outputs %v", got, set, sorted(Outputs))
	}
	defaults := map[string]string{
		InputConfig: DefaultConfig, InputWorkdir: DefaultWorkdir, InputJUnit: DefaultJUnit, InputComment: "true",
		InputToken: "${{ github.token }}", InputFailOnRegression: "true", InputArgs: "", InputShard: "", InputMerge: "", InputHTML: "",
	}
	for name, in := range a.Inputs {
		if in.Description == "" || in.Required {
			t.Errorf("input %s: needs a description and must be optional", name)
		}
		if in.Default == nil || *in.Default != defaults[name] {
			t.Errorf("input %s: default %v, want %q", name, in.Default, defaults[name])
		}
	}
	for name, out := range a.Outputs {
		if out.Description == "" {
			t.Errorf("output %s: needs a description", name)
		}
	}
}

// inputsAndOutputsInCode returns the names passed to GetInput and the
// Output constants, read from the package's source.
func inputsAndOutputsInCode(t *testing.T) (read, set []string) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var inputArgs []ast.Expr
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inBoolInput := func(n ast.Node) bool {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "boolInput" && fd.Pos() <= n.Pos() && n.End() <= fd.End() {
					return true
				}
			}
			return false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				// Inputs are read with ga.GetInput(InputX) or boolInput(ga, InputX, def).
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					if fn.Sel.Name == "GetInput" && len(n.Args) == 1 && !inBoolInput(n) {
						inputArgs = append(inputArgs, n.Args[0])
					}
				case *ast.Ident:
					if fn.Name == "boolInput" && len(n.Args) == 3 {
						inputArgs = append(inputArgs, n.Args[1])
					}
				}
			}
			return true
		})
	}
	for _, arg := range inputArgs {
		id, ok := arg.(*ast.Ident)
		if !ok || !strings.HasPrefix(id.Name, "Input") {
			t.Errorf("input read with %s: use an Input constant", types(arg))
			continue
		}
		read = append(read, consts[id.Name])
	}
	for name, v := range consts {
		if strings.HasPrefix(name, "Output") {
			set = append(set, v)
		}
	}
	return sorted(slices.Compact(sorted(read))), sorted(set)
}

func types(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "expression"
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

// TestDockerfile checks what review asks of the image: a Go builder pinned
// by digest, a static trimmed binary, a final stage without a shell or RUN,
// no USER (GitHub runs Docker actions as root; a USER breaks access to the
// workspace) and /gait as the entrypoint.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := regexp.MustCompile(`(?m)^FROM `).Split(string(data), -1)[1:]
	if len(stages) != 2 {
		t.Fatalf("want a builder and a final stage, got %d stages", len(stages))
	}
	build, final := stages[0], stages[1]
	if !regexp.MustCompile(`^(--platform=\$BUILDPLATFORM )?golang:1\.\d+@sha256:[0-9a-f]{64} AS build\n`).MatchString(build) {
		t.Errorf("builder must be a golang:1.N image pinned by digest: %q", strings.SplitN(build, "\n", 2)[0])
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/gait"} {
		if !strings.Contains(build, want) {
			t.Errorf("builder does not use %s", want)
		}
	}
	base := strings.SplitN(final, "\n", 2)[0]
	if !strings.HasPrefix(base, "scratch") {
		t.Errorf("final image %q is not scratch: it may carry a shell", base)
	}
	if !strings.Contains(final, "ca-certificates.crt") {
		t.Error("the final stage needs CA roots to reach the GitHub API")
	}
	if regexp.MustCompile(`(?m)^RUN `).MatchString(final) {
		t.Error("the final stage must not RUN anything (no shell at run time)")
	}
	if regexp.MustCompile(`(?m)^USER `).MatchString(string(data)) {
		t.Error("no USER: GitHub runs Docker actions as root and a USER breaks GITHUB_WORKSPACE access")
	}
	if !strings.Contains(final, `ENTRYPOINT ["/gait"]`) {
		t.Error(`ENTRYPOINT must be ["/gait"] (exec form, no shell)`)
	}
}
