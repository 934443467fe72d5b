package enos

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryPolicy says which failures a call may repeat.
type retryPolicy int

const (
	// retryIdempotent: reads, searches, cancel, token and time calls, which
	// may be repeated whatever happened to the previous attempt.
	retryIdempotent retryPolicy = iota
	// retryTrigger: a trigger is repeated only when the service provably
	// did not act on it (not sent, or throttled).
	retryTrigger
)

// failureKind classifies how an attempt failed.
type failureKind int

const (
	failNone      failureKind = iota
	failLocal                 // the request could not be built
	failNotSent               // nothing reached the server
	failLost                  // sent, but no complete answer: connection lost, timeout, cut body
	failAnswer                // a complete answer saying no: non-2xx or a non-zero code
	failMalformed             // a complete 2xx answer that is not an envelope
)

// attemptResult is the outcome of one HTTP attempt.
type attemptResult struct {
	data       []byte
	err        error
	failure    failureKind
	httpStatus int
	code       int
	requestID  string
	retryAfter time.Duration
}

func (r attemptResult) retryable(p retryPolicy) bool {
	switch r.failure {
	case failNotSent:
		return true
	case failLost:
		return p == retryIdempotent
	case failAnswer:
		if r.httpStatus == http.StatusTooManyRequests {
			return true
		}
		return p == retryIdempotent && (isGatewayFailure(r.httpStatus) || r.code == codeInternalException || r.code == codeGatewayInternal)
	}
	return false
}

// outcomeUnknown reports whether the service may have acted although the
// call failed (SERVICE.md §4.6: connection lost after sending, timeout, 5xx).
func (r attemptResult) outcomeUnknown() bool {
	switch r.failure {
	case failLost, failMalformed:
		return true
	case failAnswer:
		return r.httpStatus >= 500 || r.code == codeInternalException || r.code == codeGatewayInternal
	}
	return false
}

func (r attemptResult) finalError(p retryPolicy) error {
	if p == retryTrigger && r.outcomeUnknown() {
		return &outcomeUnknownError{err: r.err}
	}
	return r.err
}

func isGatewayFailure(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// backoff computes capped exponential delays with jitter.
type backoff struct {
	base, max     time.Duration
	maxRetryAfter time.Duration
	sleep         func(ctx context.Context, d time.Duration) error // replaced in tests
}

func defaultBackoff() backoff {
	return backoff{base: 250 * time.Millisecond, max: 10 * time.Second, maxRetryAfter: time.Minute, sleep: sleepContext}
}

// delay before retry n (1-based): a random time in [d/2, d] for
// d = min(max, base·2^(n-1)), or the server's Retry-After when longer.
func (b backoff) delay(n int, retryAfter time.Duration) time.Duration {
	d := b.max
	if shift := n - 1; shift < 30 && b.base<<shift < b.max {
		d = b.base << shift
	}
	if half := int64(d / 2); half > 0 {
		d = time.Duration(half + rand.Int64N(half+1))
	}
	if retryAfter > d {
		d = min(retryAfter, b.maxRetryAfter)
	}
	return d
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.Atoi(value); err == nil {
		return time.Duration(max(0, min(secs, 86400))) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
