package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/ui"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newUICmd(a))
	})
}

type uiOptions struct {
	listen           string
	openBrowser      bool
	allowNonLoopback bool
}

// uiResult is what `gait ui --json` prints once it listens.
type uiResult struct {
	OK     bool   `json:"ok"`
	Listen string `json:"listen"`
	URL    string `json:"url"`
}

func newUICmd(a *app) *cobra.Command {
	var o uiOptions
	cmd := &cobra.Command{
		Use:   "ui [--listen 127.0.0.1:7980] [--open-browser=true|false] [--allow-non-loopback]",
		Short: "Serve the local web UI over this workspace's runs, results, traces and jobs",
		Long: `ui serves a local web UI over the current folder: the runpacks under gait-out/
and fixtures/ (run id, size, signature, verify result) with each run's timeline
and a side-by-side diff of two runs; the latest regress_result.json and JUnit,
failing fixtures first with their diffs and ticket footers; gate traces and the
report top ranking; jobs and session chains; and the guided first run (demo,
verify, receipt, regress init and run, a policy block), each an allowlisted gait
command run here.

It listens on 127.0.0.1 only unless --allow-non-loopback is given, answers only
requests addressed to it (Host) from its own pages (Origin), and wants a token
that changes at each start for anything that runs a command. It prints its URL
(--json: {ok, listen, url}) and serves until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.runUI(o) },
	}
	cmd.Flags().StringVar(&o.listen, "listen", ui.DefaultListen, "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().BoolVar(&o.openBrowser, "open-browser", true, "open the UI in the default browser")
	cmd.Flags().BoolVar(&o.allowNonLoopback, "allow-non-loopback", false, "allow listening on an address other machines can reach")
	return cmd
}

func (a *app) runUI(o uiOptions) error {
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	srv, err := ui.New(ui.Options{Listen: o.listen, AllowNonLoopback: o.allowNonLoopback, Workspace: ".", Binary: bin, Version: producerVersion()})
	if err != nil {
		return err
	}
	a.emit(uiResult{OK: true, Listen: srv.Listen(), URL: srv.URL()}, kv("listen", srv.Listen(), "url", srv.URL()))
	if o.openBrowser {
		openBrowser(srv.URL())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx)
}

// openBrowser asks the desktop to open url; failing that, the printed URL
// is there to open by hand.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}
