package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gait-dev/gait/pack"
)

var update = flag.Bool("update", false, "rewrite the screenshots in docs/ui/")

// chromium finds a Chromium to drive: $GAIT_CHROMIUM, else the usual names.
func chromium() string {
	if p := os.Getenv("GAIT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives gait ui in headless Chromium as a reviewer would: the
// runs list, a run, a failing fixture and its diff, a side-by-side diff,
// the guided demo, a cross-origin POST refused, and the static report
// opened offline. It fails on a missing element, a console error or a
// failed request, and checks labels, keyboard focus and contrast on every
// page.
func TestBrowser(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("no Chromium found (install the chromium package, or set GAIT_CHROMIUM); browser suite skipped")
	}
	if testing.Short() {
		t.Skip("browser suite skipped in -short mode")
	}
	gait := buildGait(t)
	// The workspace sits in a home folder of its own, so the footer (and
	// the screenshots in docs/ui/) show ~/support-agent, not a temporary path.
	home := t.TempDir()
	ws := browserWorkspace(t, gait, home)
	url := startUI(t, gait, ws, home)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	tab := newWatchedTab(t, bctx)
	shots := screenshotDirs(t)

	// Runs list: both runs, verified.
	tab.visit(url+"/runs", "table.runs")
	if n := tab.count("table.runs tbody tr"); n < 3 {
		t.Fatalf("runs list shows %d runs, want at least 3", n)
	}
	tab.expectText("table.runs", "run_demo")
	tab.expectText("footer.page-foot code", "~/support-agent")
	tab.check("runs")
	tab.shot(shots, "runs")

	// A run: its timeline.
	tab.do(chromedp.Click(chromedp.CSS(`table.runs a[href*="runpack_run_demo.zip"]`)))
	tab.waitVisible("table.timeline")
	tab.expectText("table.timeline", "tool.fetch")
	tab.check("run")
	tab.shot(shots, "run")

	// Side-by-side diff of two runs, picked with the checkboxes.
	tab.visit(url+"/runs", "table.runs")
	tab.do(chromedp.Click(chromedp.CSS(`input[value="gait-out/runpack_run_changed.zip"]`)),
		chromedp.Click(chromedp.CSS(`input[value="gait-out/runpack_run_demo.zip"]`)),
		chromedp.Click(chromedp.ID("diff-button")))
	tab.waitVisible("table.sbs")
	tab.expectText("table.sbs tr.changed", "tool.fetch")
	tab.check("diff")
	tab.shot(shots, "diff")

	// Regress: the failing fixture first, its diff, then its run.
	tab.visit(url+"/regress", "section.fixture.failing")
	tab.expectText("section.fixture.failing pre.diff .l.del", "tool.refund")
	tab.expectText("section.fixture.failing pre.diff .l.add", "tool.fetch")
	tab.expectText("section.fixture.failing .footer-box pre", "GAIT run_id=run_demo")
	tab.check("regress")
	tab.shot(shots, "regress")
	tab.do(chromedp.Click(chromedp.CSS(`section.fixture.failing button[data-copy]`)))
	// "Copied", or "Selected: press Ctrl+C" without clipboard access.
	for i := 0; tab.text(`section.fixture.failing button[data-copy]`) == "Copy"; i++ {
		if i == 50 {
			t.Fatal("the copy button did nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}
	tab.do(chromedp.Click(chromedp.CSS(`section.fixture.failing a[href^="/run?"]`)))
	tab.waitVisible("table.timeline")

	// Gate traces and the report top ranking; jobs; sessions.
	tab.visit(url+"/gate", "table.traces")
	tab.expectText("table.traces", "block")
	tab.expectText("table.top", "tool.delete")
	tab.check("gate")
	tab.shot(shots, "gate")
	tab.visit(url+"/jobs", "main h2")
	tab.expectText("main h2", "job_demo_durable")
	tab.expectText("main table", "decision-needed")
	tab.check("jobs")
	tab.shot(shots, "jobs")
	tab.visit(url+"/sessions", "section.fixture table")
	if n := tab.count("section.fixture table tbody .badge.ok"); n != 2 {
		t.Errorf("sessions page shows %d verified checkpoints, want 2", n)
	}
	tab.expectText("section.fixture h2", "chain verifies")
	tab.check("sessions")
	tab.shot(shots, "sessions")
	tab.do(chromedp.Click(chromedp.CSS(`section.fixture table a[href^="/run?"]`)))
	tab.waitVisible("table.timeline")
	tab.expectText("table.timeline", "tool.write")

	// The guided demo, from its button.
	tab.visit(url+"/guided", "form[data-flow=demo]")
	tab.check("guided")
	tab.do(chromedp.Click(chromedp.ID("run-demo")))
	tab.waitText("#exec-status", "demo: exit 0 (ok)")
	tab.expectText("#exec-output", `"run_id": "run_demo"`)
	tab.expectText("#exec-next a", "Open the run gait-out/runpack_run_demo.zip")
	tab.shot(shots, "guided")

	// A page on another origin cannot drive /api/exec, even with the token.
	crossOriginRefused(t, bctx, url, ws, tab.token())

	// The static report opens offline: no request leaves the file.
	staticReportOffline(t, bctx, ws, shots)

	tab.finish()
}

// buildGait builds the gait binary the UI runs its guided flows with.
func buildGait(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gait")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/gait")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/gait: %v\n%s", err, out)
	}
	return bin
}

// browserWorkspace writes demo data in home/support-agent: the demo run, a
// second run that differs (with markup in a tool name), a failing fixture
// with its result and JUnit, a gate trace, a durable job and the static
// report.
func browserWorkspace(t *testing.T, gait, home string) string {
	t.Helper()
	ws := filepath.Join(home, "support-agent")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(wantExit int, args ...string) {
		t.Helper()
		cmd := exec.Command(gait, args...)
		cmd.Dir = ws
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantExit {
			t.Fatalf("gait %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantExit, out)
		}
	}
	run(0, "demo")
	run(0, "demo", "--policy")
	run(3, "gate", "eval", "--policy", "gait-out/policy_demo.yaml", "--intent", "gait-out/intent_demo_delete.json", "--trace-out", "gait-out/trace_demo.json")
	run(0, "demo", "--durable")
	journal := "gait-out/sessions/review.journal.jsonl"
	run(0, "run", "session", "start", "--journal", journal, "--session-id", "sess_review", "--run-id", "run_sess")
	run(0, "run", "session", "append", "--journal", journal, "--tool", "tool.write", "--verdict", "allow")
	run(0, "run", "session", "checkpoint", "--journal", journal)
	run(0, "run", "session", "append", "--journal", journal, "--tool", "tool.delete", "--verdict", "block", "--reason-codes", "destructive_tool_blocked")
	run(0, "run", "session", "checkpoint", "--journal", journal)
	rec := pack.DemoRecord()
	rec.Intents[1].ToolName = "tool.refund<img src=/injected onerror=console.error(1)>"
	rp, err := pack.Build(rec, pack.RecordOptions{RunID: "run_changed"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.WriteFile(filepath.Join(ws, "gait-out", "runpack_run_changed.zip")); err != nil {
		t.Fatal(err)
	}
	run(0, "regress", "init", "--from", "run_demo")
	fixture := filepath.Join(ws, "fixtures", "run_demo", "fixture.json")
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"tool.fetch"`, `"tool.refund"`, 1))
	if err := os.WriteFile(fixture, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run(5, "regress", "run", "--junit", "gait-out/junit.xml")
	run(0, "report", "html")
	return ws
}

// startUI starts gait ui in ws, with home as the user's home folder, on a
// free port and returns its URL.
func startUI(t *testing.T, gait, ws, home string) string {
	t.Helper()
	cmd := exec.Command(gait, "ui", "--listen", "127.0.0.1:0", "--open-browser=false", "--json")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "HOME="+home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("gait ui printed no line: %v", err)
	}
	var res struct {
		OK     bool   `json:"ok"`
		Listen string `json:"listen"`
		URL    string `json:"url"`
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil || !res.OK || res.URL == "" {
		t.Fatalf("gait ui --json printed %q (%v)", line, err)
	}
	return res.URL
}

// screenshotDirs are where screenshots go: the test's artifact folder and,
// with -update or GAIT_UPDATE_SCREENSHOTS=1, docs/ui/.
func screenshotDirs(t *testing.T) []string {
	dirs := []string{t.ArtifactDir()}
	if *update || os.Getenv("GAIT_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "ui"))
	}
	return dirs
}

// watchedTab is a browser tab whose console errors and failed requests
// fail the test.
type watchedTab struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newWatchedTab(t *testing.T, parent context.Context) *watchedTab {
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	w := &watchedTab{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
				w.add("console error: %s", consoleText(ev.Args))
			}
		case *cdpruntime.EventExceptionThrown:
			w.add("exception: %s %s", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				w.add("browser error: %s %s", ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventLoadingFailed:
			if !ev.Canceled {
				w.add("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
			}
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				w.add("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func consoleText(args []*cdpruntime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func (w *watchedTab) add(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

// flush fails the test with what the tab reported so far.
func (w *watchedTab) flush(where string) {
	w.t.Helper()
	w.mu.Lock()
	errs := w.errs
	w.errs = nil
	w.mu.Unlock()
	for _, e := range errs {
		w.t.Errorf("%s: %s", where, e)
	}
}

func (w *watchedTab) finish() { w.flush("end") }

func (w *watchedTab) do(steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		w.t.Fatalf("browser: %v", err)
	}
}

func (w *watchedTab) visit(url, sel string) {
	w.t.Helper()
	w.do(chromedp.Navigate(url))
	w.waitVisible(sel)
}

func (w *watchedTab) waitVisible(sel string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		loc, _ := chromedp.Run(w.ctx, chromedp.Location())
		w.t.Fatalf("%s: no visible %q: %v", loc, sel, err)
	}
}

func (w *watchedTab) count(sel string) int {
	w.t.Helper()
	n, err := chromedp.Run(w.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *watchedTab) text(sel string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](fmt.Sprintf("Array.from(document.querySelectorAll(%q)).map(e => e.textContent).join('\\n')", sel)))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *watchedTab) expectText(sel, want string) {
	w.t.Helper()
	if got := w.text(sel); !strings.Contains(got, want) {
		w.t.Fatalf("%q holds %q, want it to contain %q", sel, got, want)
	}
}

func (w *watchedTab) waitText(sel, want string) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(w.text(sel), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.t.Fatalf("%q never showed %q (it holds %q)", sel, want, w.text(sel))
}

func (w *watchedTab) token() string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](`document.querySelector('meta[name="gait-token"]').content`))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *watchedTab) shot(dirs []string, name string) {
	w.t.Helper()
	w.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`))
	png, err := chromedp.Run(w.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
}

// check runs the accessibility checks on the current page and fails on
// what the tab reported so far.
func (w *watchedTab) check(page string) {
	w.t.Helper()
	w.checkLabels(page)
	w.checkKeyboard(page)
	w.checkContrast(page)
	w.flush(page)
}

// checkLabels reads the accessibility tree: every control and link has an
// accessible name.
func (w *watchedTab) checkLabels(page string) {
	w.t.Helper()
	res, err := chromedp.Call(w.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		w.t.Fatal(err)
	}
	controls := []string{"button", "checkbox", "textbox", "combobox", "link", "radio", "searchbox", "listbox", "slider", "spinbutton"}
	seen := 0
	for _, n := range res.Nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		var role, name string
		_ = json.Unmarshal(n.Role.Value, &role)
		if !slices.Contains(controls, role) {
			continue
		}
		seen++
		if n.Name != nil {
			_ = json.Unmarshal(n.Name.Value, &name)
		}
		if strings.TrimSpace(name) == "" {
			w.t.Errorf("%s: a %s has no accessible name", page, role)
		}
	}
	if seen == 0 {
		w.t.Errorf("%s: the accessibility tree shows no control at all", page)
	}
}

// focusableJS numbers the page's focusable elements in document order and
// returns how many there are.
const focusableJS = `(() => {
	const els = document.querySelectorAll('a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
	els.forEach((e, i) => e.setAttribute("data-focus-index", i));
	document.activeElement && document.activeElement.blur();
	window.scrollTo(0, 0);
	return els.length;
})()`

// checkKeyboard tabs through the page (up to 40 stops): focus starts at the
// skip link and visits every control in document order, none skipped and
// none trapped, each visibly outlined.
func (w *watchedTab) checkKeyboard(page string) {
	w.t.Helper()
	n, err := chromedp.Run(w.ctx, chromedp.Evaluate[int](focusableJS))
	if err != nil {
		w.t.Fatal(err)
	}
	for i := range min(n, 40) {
		w.do(chromedp.KeyEvent("\t"))
		got, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]string](`(() => {
			const e = document.activeElement;
			const s = getComputedStyle(e);
			return [e.getAttribute("data-focus-index") || "", e.tagName.toLowerCase(), e.className, e.textContent.trim().slice(0, 40), s.outlineStyle, s.outlineWidth];
		})()`))
		if err != nil {
			w.t.Fatal(err)
		}
		idx, tag, class, text, outline, width := got[0], got[1], got[2], got[3], got[4], got[5]
		if i == 0 && (tag != "a" || class != "skip") {
			w.t.Errorf("%s: the first Tab focuses <%s class=%q>, want the skip link", page, tag, class)
		}
		if idx != strconv.Itoa(i) {
			w.t.Errorf("%s: Tab %d focuses <%s> %q (control #%s), want control #%d in document order", page, i+1, tag, text, idx, i)
			return
		}
		if outline == "none" || width == "0px" {
			w.t.Errorf("%s: Tab %d focuses <%s> %q with no visible outline", page, i+1, tag, text)
		}
	}
}

// contrastJS lists text whose contrast with its background is below WCAG
// AA (4.5:1, or 3:1 for large text).
const contrastJS = `(() => {
	const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(",").map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
	const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
	const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
	const bad = [];
	for (const el of document.body.querySelectorAll("*")) {
		if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const st = getComputedStyle(el);
		if (st.visibility === "hidden" || st.display === "none") continue;
		const r = el.getBoundingClientRect();
		if (r.width < 2 || r.height < 2 || r.right < 0) continue;
		const fg = parse(st.color), b = bg(el);
		const l1 = lum(fg), l2 = lum(b);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
		const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
		if (ratio < need) bad.push(el.tagName + "." + el.className + " '" + el.textContent.trim().slice(0, 40) + "' " + ratio.toFixed(2));
	}
	return bad;
})()`

func (w *watchedTab) checkContrast(page string) {
	w.t.Helper()
	bad, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]string](contrastJS))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, b := range bad {
		w.t.Errorf("%s: low contrast: %s", page, b)
	}
}

// crossOriginRefused serves a page on another origin that posts to the
// UI's /api/exec, as a hostile site (or a DNS-rebound name) would, and
// checks that the UI refused it: the flow did not run.
func crossOriginRefused(t *testing.T, parent context.Context, uiURL, ws, token string) {
	t.Helper()
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><title>start</title><script>
const body = JSON.stringify({command: "regress_init", args: {run_id: "run_changed"}});
Promise.all([
  fetch(%[1]q + "/api/exec", {method: "POST", headers: {"Content-Type": "text/plain"}, body}).then(r => "reached " + r.status, () => "refused"),
  fetch(%[1]q + "/api/exec", {method: "POST", headers: {"Content-Type": "application/json", "X-Gait-Token": %[2]q}, body}).then(r => "reached " + r.status, () => "refused"),
]).then(r => { document.title = r.join(","); });
</script>`, uiURL, token)
	}))
	defer evil.Close()
	ctx, cancel := chromedp.NewContext(parent)
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()
	if err := chromedp.Do(tctx, chromedp.Navigate(evil.URL)); err != nil {
		t.Fatal(err)
	}
	var title string
	for range 100 {
		title, _ = chromedp.Run(ctx, chromedp.Title())
		if title != "start" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if title != "refused,refused" {
		t.Errorf("cross-origin POSTs to /api/exec: %q, want both refused", title)
	}
	if _, err := os.Stat(filepath.Join(ws, "fixtures", "run_changed")); err == nil {
		t.Errorf("a cross-origin POST ran regress init")
	}
}

// staticReportOffline opens gait-out/report.html from disk and checks that
// it shows the failing fixture and makes no request at all.
func staticReportOffline(t *testing.T, parent context.Context, ws string, shots []string) {
	t.Helper()
	tab := newWatchedTab(t, parent)
	var mu sync.Mutex
	var requests []string
	if err := chromedp.Listen(tab.ctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, ev.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	tab.visit("file://"+filepath.Join(ws, "gait-out", "report.html"), "section.fixture.failing")
	tab.expectText("section.fixture.failing pre.diff .l.add", "tool.fetch")
	tab.expectText("section.run table.timeline", "tool.fetch")
	tab.check("report.html")
	tab.shot(shots, "report")
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") {
			t.Errorf("the static report requested %s", u)
		}
	}
}
