package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
)

// app carries what every command needs: streams, global flags, environment.
type app struct {
	in      io.Reader
	out     io.Writer
	errOut  io.Writer
	getenv  func(string) string
	now     func() time.Time
	json    bool
	explain bool
}

// run executes the gait CLI and returns the process exit code. Every error
// is mapped here, once, through the exit-code table.
func run(args []string, in io.Reader, out, errOut io.Writer, getenv func(string) string) int {
	return runApp(&app{in: in, out: out, errOut: errOut, getenv: getenv, now: time.Now}, args)
}

// runApp is run for a prepared app (tests give it their own clock). With
// GAIT_ADOPTION_LOG set, each command appends one line to that log.
func runApp(a *app, args []string) int {
	start := a.now()
	root := newRootCmdFor(a, args)
	code := a.execute(root, args)
	if path := a.getenv(adoptionLogEnv); path != "" {
		a.logAdoption(path, root, args, code, start)
	}
	return code
}

// execute runs the command args name and maps its error to an exit code.
func (a *app) execute(root *cobra.Command, args []string) int {
	in, out, errOut := a.in, a.out, a.errOut
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)

	// --explain counts only among gait's own arguments, not after "--"
	// (where an agent or server command takes its own flags).
	own := args
	if i := slices.Index(args, "--"); i >= 0 {
		own = args[:i]
	}
	if slices.Contains(own, "--explain") {
		return a.runExplain(root, own)
	}
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	code := exitcode.Of(err)
	if isUsageError(err) {
		code = exitcode.InvalidInput
	}
	msg := oneLineMessage(err)
	if code == exitcode.InvalidInput && isUsageError(err) {
		msg = usageMessage(cmd, err)
	}
	if a.json && !errors.Is(err, errSilent) {
		a.writeJSON(newErrorResult(msg, code))
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(errOut, "gait: %s\n", msg)
	}
	return int(code)
}

// oneLineMessage renders err on one line, whatever its own layout.
func oneLineMessage(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// usageMessage renders one of cobra's parse errors as one line with its
// fix: the suggested command for an unknown one, the usage line for
// missing arguments, and where to read the help.
func usageMessage(cmd *cobra.Command, err error) string {
	text := err.Error()
	if head, suggestions, ok := strings.Cut(text, "\n\nDid you mean this?\n"); ok {
		var names []string
		for _, s := range strings.Fields(suggestions) {
			names = append(names, "`gait "+s+"`")
		}
		return head + "; did you mean " + strings.Join(names, " or ") + "? run `gait --help` for the list"
	}
	msg := oneLineMessage(err)
	if cmd != nil && (strings.HasPrefix(text, "accepts ") || strings.HasPrefix(text, "requires at least")) {
		return cmd.CommandPath() + ": " + msg + "; usage: " + cmd.UseLine()
	}
	return msg + "; run `gait --help` or `gait <command> --help`"
}

// errorResult is the --json error envelope: Gait v1's fields (ok, error,
// error_code, error_category, retryable, hint) and the exit code.
type errorResult struct {
	OK            bool   `json:"ok"`
	Error         string `json:"error"`
	ErrorCode     string `json:"error_code"`
	ErrorCategory string `json:"error_category"`
	Retryable     bool   `json:"retryable"`
	Hint          string `json:"hint"`
	ExitCode      int    `json:"exit_code"`
}

// newErrorResult builds the envelope; the hint is the message's fix (the
// text after its last "; ") or a general one.
func newErrorResult(msg string, code exitcode.Code) errorResult {
	hint := "see the error and `gait <command> --help`"
	if i := strings.LastIndex(msg, "; "); i >= 0 {
		hint = msg[i+2:]
	}
	return errorResult{OK: false, Error: msg, ErrorCode: code.String(), ErrorCategory: code.String(), Hint: hint, ExitCode: int(code)}
}

// errSilent marks an error whose message the command already printed
// (for example a failing verify that rendered its own report).
var errSilent = errors.New("already reported")

// silent returns an error carrying code whose message is not printed again.
func silent(code exitcode.Code) error {
	return exitcode.Wrap(code, errSilent)
}

// usageError marks cobra's own parse errors: unknown flags, commands, args.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsageError(err error) bool {
	if _, ok := errors.AsType[usageError](err); ok {
		return true
	}
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "required flag(s)") ||
		strings.HasPrefix(s, "accepts ") || strings.HasPrefix(s, "requires at least") ||
		strings.HasPrefix(s, "invalid argument") || strings.Contains(s, "flag needs an argument")
}

// runExplain prints what the named command does without running it.
func (a *app) runExplain(root *cobra.Command, args []string) int {
	cmd, _, err := root.Find(slices.DeleteFunc(slices.Clone(args), func(s string) bool { return strings.HasPrefix(s, "-") }))
	if err != nil {
		cmd = root
	}
	text := cmd.Long
	if text == "" {
		text = cmd.Short
	}
	if slices.Contains(args, "--json") {
		a.writeJSON(map[string]any{"ok": true, "command": cmd.CommandPath(), "explain": text})
		return 0
	}
	fmt.Fprintln(a.out, strings.TrimSpace(text))
	return 0
}

func newRootCmd(a *app) *cobra.Command { return newRootCmdFor(a, nil) }

// newRootCmdFor is the command tree an invocation with args needs: the
// whole tree, or only the group of the command args name when that group
// was registered with registerCommand (the tree costs about a millisecond
// to build, a quarter of a short command's run).
func newRootCmdFor(a *app, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "gait",
		Short: "Turn AI-agent runs into verifiable runpacks and CI regressions",
		Long: `gait captures an agent run as a runpack (a deterministic, signable zip of
intents, results and references), verifies and diffs it, and turns an incident
into a permanent CI check with "gait regress bootstrap" and "gait regress run".

Start with "gait tour" for a guided first run.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print one JSON object on stdout")
	root.PersistentFlags().BoolVar(&a.explain, "explain", false, "print what the command does and exit")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = true
	only := ""
	for _, arg := range args {
		if arg == "--json" || arg == "--explain" {
			continue
		}
		for _, g := range commandGroups {
			if g.name != "" && g.name == arg {
				only = arg
			}
		}
		break
	}
	for _, g := range commandGroups {
		if only == "" || g.name == only {
			g.add(root, a)
		}
	}
	groupCommands(root)
	return root
}

// helpGroups orders `gait --help` by what a user is doing.
var helpGroups = []struct {
	id, title string
	commands  []string
}{
	{"start", "Getting started:", []string{"tour", "demo", "doctor", "ui"}},
	{"runs", "Runs and evidence:", []string{"run", "verify", "pack", "report"}},
	{"incidents", "Incidents:", []string{"capture", "incident", "guard", "trace", "test", "enforce", "migrate"}},
	{"ci", "CI regressions:", []string{"regress", "action"}},
	{"gate", "Gate and signing:", []string{"gate", "policy", "approve", "delegate", "keys", "registry"}},
	{"agents", "Agents at work:", []string{"mcp", "job", "scout"}},
}

func groupCommands(root *cobra.Command) {
	for _, g := range helpGroups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
		for _, c := range root.Commands() {
			if slices.Contains(g.commands, c.Name()) {
				c.GroupID = g.id
			}
		}
	}
}

// commandGroups registers each command group; files append to it in init.
var commandGroups []commandGroup

// commandGroup adds commands to the root; name, when set, is the one
// top-level command it adds.
type commandGroup struct {
	name string
	add  func(root *cobra.Command, a *app)
}

func register(f func(root *cobra.Command, a *app)) {
	commandGroups = append(commandGroups, commandGroup{add: f})
}

// registerCommand registers the group that adds the top-level command
// name and nothing else, so that running it builds only that group.
func registerCommand(name string, f func(root *cobra.Command, a *app)) {
	commandGroups = append(commandGroups, commandGroup{name: name, add: f})
}
