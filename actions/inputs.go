package actions

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// Input names, as declared in action.yml.
const (
	InputConfig           = "config"
	InputWorkdir          = "workdir"
	InputJUnit            = "junit"
	InputComment          = "comment"
	InputToken            = "token"
	InputFailOnRegression = "fail-on-regression"
	InputArgs             = "args"
	InputShard            = "shard"
	InputMerge            = "merge"
	InputHTML             = "html"
)

// Output names, as declared in action.yml.
const (
	OutputStatus      = "status"
	OutputExitCode    = "exit-code"
	OutputJUnitPath   = "junit-path"
	OutputResultPath  = "result-path"
	OutputFailedCount = "failed-count"
	OutputSummary     = "summary"
	OutputHTMLPath    = "html-path"
)

// Inputs lists every input the action reads; Outputs every output it sets.
var (
	Inputs  = []string{InputConfig, InputWorkdir, InputJUnit, InputComment, InputToken, InputFailOnRegression, InputArgs, InputShard, InputMerge, InputHTML}
	Outputs = []string{OutputStatus, OutputExitCode, OutputJUnitPath, OutputResultPath, OutputFailedCount, OutputSummary, OutputHTMLPath}
)

// Defaults used when an input is empty (action.yml declares the same).
const (
	DefaultConfig  = "gait.yaml"
	DefaultWorkdir = "."
	DefaultJUnit   = "gait-out/junit.xml"
	resultName     = "regress_result.json"
	// htmlName is the HTML report's name next to the JUnit report, where
	// it goes when the html input is empty or true.
	htmlName = "report.html"
)

// inputs are the action's inputs, parsed and checked.
type inputs struct {
	workdir          string
	config           string // resolved against workdir
	junit            string // resolved against workdir
	result           string // resolved against workdir
	html             string // resolved against workdir; "" writes no HTML report
	comment          bool
	failOnRegression bool
	fixtures         []string
	parallel         int
	shard            *regress.Shard // shard input: run one shard, write only files
	merge            string         // merge input (or --merge): a folder of shard results to merge
}

// readInputs reads and checks the inputs but the token. Problems are bad input (exit 6).
func readInputs(ga *githubactions.Action) (*inputs, error) {
	in := &inputs{
		workdir: cmp.Or(ga.GetInput(InputWorkdir), DefaultWorkdir),
	}
	var err error
	if in.comment, err = boolInput(ga, InputComment, true); err != nil {
		return nil, err
	}
	if in.failOnRegression, err = boolInput(ga, InputFailOnRegression, true); err != nil {
		return nil, err
	}
	a, err := parseArgs(ga.GetInput(InputArgs))
	if err != nil {
		return nil, err
	}
	in.fixtures, in.parallel = a.fixtures, a.parallel
	in.config = under(in.workdir, cmp.Or(ga.GetInput(InputConfig), DefaultConfig))
	junit := cmp.Or(ga.GetInput(InputJUnit), DefaultJUnit)
	in.junit = under(in.workdir, junit)
	if a.output != "" {
		in.result = under(in.workdir, a.output)
	} else {
		in.result = filepath.Join(filepath.Dir(in.junit), resultName)
	}
	in.html = htmlPath(ga.GetInput(InputHTML), in.workdir, in.junit)
	if err := in.readShardInputs(ga); err != nil {
		return nil, err
	}
	if in.result == in.junit {
		return nil, exitcode.Invalidf("inputs: junit and the result document are both %s; pick another junit path or --output", in.junit)
	}
	if in.html == in.junit || in.html == in.result {
		return nil, exitcode.Invalidf("inputs: html is %s, where the JUnit report or the result document goes; pick another html path", in.html)
	}
	return in, nil
}

// htmlPath is where the html input puts the HTML report: report.html next
// to the JUnit report when it is empty or true, nowhere ("") when it is
// false, else the path it names, resolved against workdir.
func htmlPath(v, workdir, junit string) string {
	switch v = strings.TrimSpace(v); strings.ToLower(v) {
	case "", "true":
		return filepath.Join(filepath.Dir(junit), htmlName)
	case "false":
		return ""
	}
	return under(workdir, v)
}

// under resolves p against the working directory unless it is absolute.
func under(workdir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(workdir, p)
}

func boolInput(ga *githubactions.Action, name string, def bool) (bool, error) {
	v := ga.GetInput(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return false, exitcode.Invalidf("input %s: %q is not a boolean; use true or false", name, v)
	}
	return b, nil
}

// regressArgs are the `gait regress run` flags the args input may carry.
type regressArgs struct {
	fixtures []string
	parallel int
	output   string
}

// parseArgs reads the args input: --fixture NAME (repeatable, or comma
// separated), --parallel N and --output PATH, in --flag value or
// --flag=value form. Words are split like a shell does, with single and
// double quotes and backslash escapes, but nothing is expanded or run.
func parseArgs(s string) (regressArgs, error) {
	var a regressArgs
	words, err := splitWords(s)
	if err != nil {
		return a, exitcode.Invalidf("input args: %v", err)
	}
	for i := 0; i < len(words); i++ {
		name, value, hasValue := strings.Cut(words[i], "=")
		switch name {
		case "--fixture", "--parallel", "--output":
		default:
			return a, exitcode.Invalidf("input args: unknown argument %q; the action accepts --fixture NAME, --parallel N and --output PATH", words[i])
		}
		if !hasValue {
			if i+1 >= len(words) {
				return a, exitcode.Invalidf("input args: %s needs a value", name)
			}
			i++
			value = words[i]
		}
		switch name {
		case "--fixture":
			for _, f := range strings.Split(value, ",") {
				if f = strings.TrimSpace(f); f != "" {
					a.fixtures = append(a.fixtures, f)
				}
			}
		case "--parallel":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return a, exitcode.Invalidf("input args: --parallel %q is not a count; use a number ≥ 0", value)
			}
			a.parallel = n
		case "--output":
			if value == "" {
				return a, exitcode.Invalidf("input args: --output needs a path")
			}
			a.output = value
		}
	}
	return a, nil
}

// splitWords splits s into words like a POSIX shell, without expansion.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`+"`", rs[i+1]):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			if rs[i] != '\n' {
				cur.WriteRune(rs[i])
				inWord = true
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
