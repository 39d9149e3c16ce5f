// Command gateload measures the gate service (`gait mcp serve --policy`)
// over loopback: per-decision latency at several client concurrencies, and
// an open-loop soak at a fixed rate with the server's resident memory
// sampled as it runs.
//
//	gait mcp serve --policy examples/python-dispatcher/policy.yaml --listen 127.0.0.1:8787 &
//	go run ./scripts/gateload -url http://127.0.0.1:8787 -clients 1,8,64 -n 20000 -rate 2000 -soak 60s -pid $!
//
// With -raw, each closed-loop client is one keep-alive TCP connection that
// writes a prepared HTTP/1.1 request and reads the answer by its
// Content-Length: on a two-core machine the client shares the cores with
// the server, and net/http's client costs about as much CPU per call as
// the server does, so -raw shows more of the server's own latency.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var bodies = [][]byte{
	[]byte(`{"call":{"name":"fs.read","args":{"path":"README.md"}}}`),
	[]byte(`{"call":{"name":"db.drop","args":{"table":"users"}}}`),
	[]byte(`{"call":{"name":"email.send","args":{"to":"a@example.com","body":"hi"}}}`),
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8787", "gate service base URL")
	clients := flag.String("clients", "1,8,64", "comma-separated client concurrencies")
	n := flag.Int("n", 20000, "decisions per concurrency level")
	rate := flag.Int("rate", 2000, "soak rate in decisions per second (0: no soak)")
	soak := flag.Duration("soak", time.Minute, "soak duration")
	pid := flag.Int("pid", 0, "server process id, to sample its resident memory during the soak")
	raw := flag.Bool("raw", false, "closed loop over raw keep-alive HTTP/1.1 connections instead of net/http's client")
	flag.Parse()
	endpoint := *url + "/v1/evaluate"
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < 2000; i++ { // warm up connections and the server
		if _, err := decide(client, endpoint, bodies[i%len(bodies)]); err != nil {
			fmt.Fprintln(os.Stderr, "gateload:", err)
			os.Exit(1)
		}
	}
	fmt.Println("| clients | decisions | p50 | p99 | max | decisions/s |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, f := range strings.Split(*clients, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			fmt.Fprintln(os.Stderr, "gateload: bad -clients", f)
			os.Exit(2)
		}
		var lat []time.Duration
		var wall time.Duration
		if *raw {
			lat, wall = closedLoopRaw(*url, c, *n)
		} else {
			lat, wall = closedLoop(client, endpoint, c, *n)
		}
		fmt.Printf("| %d | %d | %s | %s | %s | %.0f |\n", c, len(lat), pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond), float64(len(lat))/wall.Seconds())
	}
	if *rate > 0 {
		openLoop(client, endpoint, *rate, *soak, *pid)
	}
}

func decide(c *http.Client, url string, body []byte) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("status %d", resp.StatusCode)
	}
	return d, nil
}

func closedLoop(c *http.Client, url string, clients, n int) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				d, err := decide(c, url, bodies[i%len(bodies)])
				if err != nil {
					fmt.Fprintln(os.Stderr, "gateload:", err)
					os.Exit(1)
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(lat)
	return lat, wall
}

// closedLoopRaw is closedLoop with one raw keep-alive connection per client.
func closedLoopRaw(base string, clients, n int) ([]time.Duration, time.Duration) {
	host := strings.TrimPrefix(base, "http://")
	reqs := make([][]byte, len(bodies))
	for i, b := range bodies {
		reqs[i] = fmt.Appendf(nil, "POST /v1/evaluate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(b), b)
	}
	conns := make([]*rawConn, clients)
	for i := range conns {
		c, err := dialRaw(host)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateload:", err)
			os.Exit(1)
		}
		defer c.Close()
		conns[i] = c
	}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := c.roundTrip(reqs[i%len(reqs)]); err != nil {
					fmt.Fprintln(os.Stderr, "gateload:", err)
					os.Exit(1)
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(lat)
	return lat, wall
}

type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(host string) (*rawConn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	return &rawConn{c, bufio.NewReaderSize(c, 16<<10)}, nil
}

// roundTrip writes one request and reads its response: status line,
// headers up to the blank line, then Content-Length bytes of body.
func (c *rawConn) roundTrip(req []byte) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return fmt.Errorf("response without Content-Length")
	}
	_, err = c.r.Discard(length)
	return err
}

// openLoop sends rate decisions a second for dur from a fixed pool of
// keep-alive clients; a decision's latency is measured from its scheduled
// start, so a server that falls behind shows it (no coordinated omission).
func openLoop(c *http.Client, url string, rate int, dur time.Duration, pid int) {
	total := int(float64(rate) * dur.Seconds())
	lat := make([]time.Duration, total)
	var errs atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, total)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if d := time.Until(j.due); d > 0 {
					time.Sleep(d)
				}
				if _, err := decide(c, url, bodies[j.i%len(bodies)]); err != nil {
					errs.Add(1)
				}
				lat[j.i] = time.Since(j.due)
			}
		}()
	}
	start := time.Now().Add(10 * time.Millisecond)
	for i := 0; i < total; i++ {
		jobs <- job{i, start.Add(time.Duration(i) * interval)}
	}
	close(jobs)
	var rss []string
	done := make(chan struct{})
	if pid > 0 {
		go func() {
			t := time.NewTicker(10 * time.Second)
			defer t.Stop()
			rss = append(rss, residentMiB(pid))
			for {
				select {
				case <-t.C:
					rss = append(rss, residentMiB(pid))
				case <-done:
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	wall := time.Since(start)
	if pid > 0 {
		rss = append(rss, residentMiB(pid))
	}
	slices.Sort(lat)
	fmt.Printf("\nsoak: %d decisions in %s (%.0f/s), errors %d, p50 %s, p99 %s, max %s\n", len(lat), wall.Round(time.Millisecond),
		float64(len(lat))/wall.Seconds(), errs.Load(), pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	if len(rss) > 0 {
		fmt.Printf("server RSS every 10 s (MiB): %s\n", strings.Join(rss, " "))
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	if i > 0 {
		i--
	}
	return sorted[i].Round(time.Microsecond)
}

// residentMiB reads VmRSS of pid from /proc (Linux).
func residentMiB(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%.1f", float64(kb)/1024)
		}
	}
	return "?"
}
