package actions

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// Retry bounds for GitHub API calls.
const (
	maxAttempts   = 4                // one call and three retries
	firstBackoff  = time.Second      // doubled after each retry
	maxRetryAfter = 60 * time.Second // a longer Retry-After gives up
)

// retryTransport retries GitHub API calls that failed for a reason that
// may pass: a network error, a 5xx, a 429, or a 403 that carries
// Retry-After (a secondary rate limit). It waits the Retry-After the
// server asked for, else backs off exponentially.
type retryTransport struct {
	base  http.RoundTripper
	sleep func(time.Duration)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try = req.Clone(req.Context())
			try.Body = body
		}
		resp, err := t.base.RoundTrip(try)
		wait, again := retryAfter(resp, err, attempt)
		if !again || attempt >= maxAttempts || req.Context().Err() != nil || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
		}
		t.sleep(wait)
	}
}

// retryAfter says whether a call is worth retrying and after how long.
func retryAfter(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	backoff := firstBackoff << (attempt - 1)
	if err != nil {
		return backoff, true
	}
	ra, hasRA := parseRetryAfter(resp.Header.Get("Retry-After"))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500,
		resp.StatusCode == http.StatusForbidden && hasRA:
	default:
		return 0, false
	}
	if hasRA {
		if ra > maxRetryAfter {
			return 0, false
		}
		return ra, true
	}
	return backoff, true
}

// parseRetryAfter reads a Retry-After header in seconds.
func parseRetryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0), true
		}
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
