package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws one self-overwriting status line on stderr for long work
// ("regress 120/1000 fixtures"). It is off unless stderr is a terminal, and
// always off with --json and in CI (CI=true), so logs and scripts never see
// it. A nil *progress is valid and draws nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	every time.Duration
	last  time.Time
	drawn bool
}

// progressInterval keeps redraws cheap when steps are fast.
const progressInterval = 100 * time.Millisecond

// newProgress returns a progress line labelled label, or nil when progress
// must not be shown.
func (a *app) newProgress(label string) *progress {
	if !a.progressEnabled() {
		return nil
	}
	return &progress{w: a.errOut, label: label, every: progressInterval}
}

func (a *app) progressEnabled() bool {
	if a.json {
		return false
	}
	if ci := strings.ToLower(a.getenv("CI")); ci == "true" || ci == "1" {
		return false
	}
	if a.getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(a.errOut)
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update redraws the line with done of total steps; safe for concurrent use.
func (p *progress) update(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && p.drawn && now.Sub(p.last) < p.every {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d", p.label, done, total)
}

// status shows a fixed message, for work that cannot count its steps.
func (p *progress) status(msg string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawn = true
	fmt.Fprintf(p.w, "\r\x1b[K%s %s", p.label, msg)
}

// done erases the line so the command's own output starts clean.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// largeFile is the size above which reading a file shows a progress line.
const largeFile = 16 << 20

// largeFileProgress shows "<label> <path> (N MB)" while a large file is
// worked on, and returns nil (nothing shown) for small ones.
func (a *app) largeFileProgress(label, path string) *progress {
	st, err := os.Stat(path)
	if err != nil || st.Size() < largeFile {
		return nil
	}
	p := a.newProgress(label)
	p.status(fmt.Sprintf("%s (%d MB)", path, st.Size()>>20))
	return p
}
