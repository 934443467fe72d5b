package enos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
)

const maxResponseBytes = 64 << 20

// exchange is one logical HTTP call, repeated per the retry policy.
type exchange struct {
	op     string
	method string
	url    string
	body   func() []byte // nil for a GET; called once per attempt
	policy retryPolicy
	signed bool       // a service call: token and signature headers
	query  url.Values // the signed query parameters
}

// exchange runs x until it succeeds, fails for good or ctx ends. A 1203
// answer to a signed call renews the token and re-signs once, outside the
// retry budget: the gateway refused the call before the service saw it.
func (c *Client) exchange(ctx context.Context, x exchange) ([]byte, error) {
	retries, renewedToken := 0, false
	for attempt := 1; ; attempt++ {
		token := ""
		if x.signed {
			var err error
			if token, err = c.accessToken(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", x.op, err)
			}
		}
		// The rate limit is waited for right before the send, after the
		// token: callers admitted before a shared token fetch would
		// otherwise all go out together when the token arrives.
		if c.limiter != nil {
			if err := c.limiter.wait(ctx); err != nil {
				return nil, fmt.Errorf("%s: waiting for the rate limit: %w", x.op, err)
			}
		}
		started := time.Now()
		res := c.attempt(ctx, x, token)
		c.logAttempt(ctx, x, attempt, res, time.Since(started))
		switch {
		case res.err == nil:
			return res.data, nil
		case ctx.Err() != nil:
			return nil, res.finalError(x.policy)
		case x.signed && !renewedToken && isTokenExpired(res.err):
			renewedToken = true
			c.tokens.invalidate(token)
			continue
		case retries < c.cfg.MaxRetries && res.retryable(x.policy):
			retries++
			if err := c.backoff.sleep(ctx, c.backoff.delay(retries, res.retryAfter)); err != nil {
				return nil, fmt.Errorf("%w (stopped retrying: %w)", res.finalError(x.policy), err)
			}
			continue
		}
		return nil, res.finalError(x.policy)
	}
}

// attempt sends x once, with a fresh timestamp and signature.
func (c *Client) attempt(ctx context.Context, x exchange, token string) attemptResult {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var written atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	})
	req, err := c.newRequest(actx, x, token)
	if err != nil {
		return attemptResult{err: fmt.Errorf("%s: building the request: %w", x.op, err), failure: failLocal}
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportFailure(x.op, ctx, actx, err, written.Load())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	res := attemptResult{httpStatus: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
	if err != nil {
		lost := c.transportFailure(x.op, ctx, actx, fmt.Errorf("reading the response (HTTP %d): %w", resp.StatusCode, err), true)
		lost.httpStatus = resp.StatusCode
		return lost
	}
	if len(raw) > maxResponseBytes {
		res.err = &APIError{Operation: x.op, HTTPStatus: resp.StatusCode, Message: "response body larger than 64 MiB"}
		res.failure = failMalformed
		return res
	}
	res.data, res.requestID, res.err = decodeEnvelope(x.op, resp.StatusCode, raw)
	if apiErr, ok := asAPIError(res.err); ok {
		// What the answer said goes into errors and logs: the client's
		// secrets are taken out, whatever the gateway echoed.
		apiErr.Message, apiErr.SubMessage = c.redact(apiErr.Message), c.redact(apiErr.SubMessage)
		res.code = apiErr.Code
		res.failure = failAnswer
		if apiErr.Code == codeOK && is2xx(resp.StatusCode) {
			res.failure = failMalformed
		}
	}
	return res
}

// newRequest builds one attempt of x: a fresh timestamp, and for a signed
// call a signature over exactly the body bytes sent.
func (c *Client) newRequest(ctx context.Context, x exchange, token string) (*http.Request, error) {
	var body []byte
	var bodyReader io.Reader = http.NoBody
	if x.body != nil {
		body = x.body()
		bodyReader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, x.method, x.url, bodyReader)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if x.signed {
		timestamp := strconv.FormatInt(c.now().UnixMilli(), 10)
		req.Header.Set(apim.HeaderAccessToken, token)
		req.Header.Set(apim.HeaderTimestamp, timestamp)
		req.Header.Set(apim.HeaderSignature, apim.Signature(token, x.query, body, timestamp, c.cfg.SecretKey))
	}
	return req, nil
}

// transportFailure describes a request that got no complete answer,
// naming a per-attempt timeout as such.
func (c *Client) transportFailure(op string, ctx, attemptCtx context.Context, err error, written bool) attemptResult {
	if ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", c.timeout, err)
	}
	res := attemptResult{err: &transportError{op: op, err: err, written: written}, failure: failNotSent}
	if written {
		res.failure = failLost
	}
	return res
}

// logAttempt records one attempt. The fields are chosen so that no secret,
// token, signature or encryption can reach the log.
func (c *Client) logAttempt(ctx context.Context, x exchange, attempt int, res attemptResult, took time.Duration) {
	if c.cfg.Logger == nil {
		return
	}
	fields := map[string]any{
		"operation":   x.op,
		"method":      x.method,
		"attempt":     attempt,
		"http_status": res.httpStatus,
		"code":        res.code,
		"duration_ms": took.Milliseconds(),
	}
	if res.requestID != "" {
		fields["request_id"] = res.requestID
	}
	msg := "EnOS call succeeded"
	if res.err != nil {
		msg = "EnOS call failed"
		fields["error"] = res.err.Error()
	}
	c.cfg.Logger.Debug(ctx, msg, fields)
}
