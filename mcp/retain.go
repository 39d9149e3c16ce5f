package mcp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// pruner applies a Retention to one artifact folder. It runs at most once
// a second, off the request path, so a busy service does not list its
// folder on every decision.
type pruner struct {
	dir     string
	r       Retention
	mu      sync.Mutex
	last    time.Time
	running bool
}

func (s *Service) prune(dir string) {
	p := s.pruners[dir]
	if p == nil || (p.r.MaxAge == 0 && p.r.MaxCount == 0) {
		return
	}
	now := s.o.Now()
	p.mu.Lock()
	if p.running || (!p.last.IsZero() && now.Sub(p.last) < time.Second) {
		p.mu.Unlock()
		return
	}
	p.running, p.last = true, now
	p.mu.Unlock()
	go func() {
		p.run(now)
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
	}()
}

// run removes the folder's regular files (not hidden ones, not
// sub-folders) older than MaxAge, then all but the newest MaxCount.
func (p *pruner) run(now time.Time) {
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if p.r.MaxAge > 0 && now.Sub(fi.ModTime()) > p.r.MaxAge {
			_ = os.Remove(filepath.Join(p.dir, e.Name()))
			continue
		}
		files = append(files, file{e.Name(), fi.ModTime()})
	}
	if p.r.MaxCount > 0 && len(files) > p.r.MaxCount {
		slices.SortFunc(files, func(a, b file) int {
			if c := b.mod.Compare(a.mod); c != 0 {
				return c
			}
			return strings.Compare(b.name, a.name)
		})
		for _, f := range files[p.r.MaxCount:] {
			_ = os.Remove(filepath.Join(p.dir, f.name))
		}
	}
}
