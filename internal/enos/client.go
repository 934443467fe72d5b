package enos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Client calls the EnOS API gateway and the Dataflow Batch Service. It is
// safe for concurrent use; tokens, the server zone, the rate limit and the
// trigger-minute reservations are shared by all calls of one Client.
type Client struct {
	cfg       Config
	baseURL   string // scheme://host[:port]
	prefix    string // service path prefix of the API version
	firstPage int    // pageNo of the first page
	http      *http.Client
	limiter   *pacer // nil: unlimited
	now       func() time.Time
	timeout   time.Duration // per attempt
	userAgent string
	backoff   backoff

	// fetchBound bounds a fetch shared by several callers (see flight): the
	// attempts the retry policy allows, each within the request timeout and
	// after the longest wait between attempts.
	fetchBound time.Duration

	tokens      tokenCache
	zone        cached[*time.Location]
	flowGlobals cachedByKey[int64, *FlowGlobals]
	// runs is run matching: StartRun's rule, the status batcher and what
	// they remember, over this client's calls (see runService).
	runs *runMatcher
}

// redact replaces in text the client's secrets (the secret key and the
// access token it holds), for text of the service that may echo them: an
// error answer, a task's log.
func (c *Client) redact(text string) string {
	c.tokens.mu.Lock()
	token := c.tokens.token
	c.tokens.mu.Unlock()
	for _, secret := range []string{c.cfg.SecretKey, token} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "(redacted)")
		}
	}
	return text
}

// New validates cfg and returns a Client. It sends nothing.
func New(cfg Config) (*Client, error) {
	endpoint, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		if hc, err = newHTTPClient(cfg.CACertPEM); err != nil {
			return nil, err
		}
	} else {
		if len(cfg.CACertPEM) > 0 {
			return nil, errors.New("invalid EnOS client configuration: a CA bundle cannot be combined with a custom HTTP client")
		}
		if err := checkTLSVerification(hc); err != nil {
			return nil, err
		}
	}
	c := &Client{
		cfg:       cfg,
		baseURL:   endpoint.String(),
		prefix:    "/dataflow-batch-service/v2.0",
		http:      hc,
		now:       cfg.Now,
		timeout:   cfg.RequestTimeout,
		userAgent: cfg.UserAgent,
		backoff:   defaultBackoff(),
	}
	if cfg.APIVersion == APIVersion21 {
		c.prefix, c.firstPage = "/batch-processing-service/v2.1", 1
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout == 0 {
		c.timeout = defaultRequestTimeout
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if cfg.RequestsPerSecond > 0 {
		// Paced on the real clock, whatever cfg.Now says: the limit is about
		// when requests actually leave.
		c.limiter = newPacer(cfg.RequestsPerSecond, time.Now, sleepContext)
	}
	c.fetchBound = (c.timeout + c.backoff.maxRetryAfter) * time.Duration(cfg.MaxRetries+1)
	c.runs = &runMatcher{svc: httpRunService{c}, now: c.now, timeout: c.timeout, backoff: &c.backoff, fetchBound: c.fetchBound}
	if cfg.ServerTimeZone != "" {
		loc, _ := parseZone(cfg.ServerTimeZone) // validated above
		c.zone.offer(loc)
	}
	return c, nil
}

// apiCall describes one service operation.
type apiCall struct {
	resource, action string
	method           string
	query            url.Values // besides action, userId and orgId; empty values are not sent
	body             any        // the JSON body of a POST
	policy           retryPolicy
	anonymous        bool // time calls take no userId and orgId
}

func (a apiCall) operation() string { return a.resource + "/" + a.action }

// do performs a signed service call and returns the envelope's data.
func (c *Client) do(ctx context.Context, call apiCall) (json.RawMessage, error) {
	op := call.operation()
	query := url.Values{"action": {call.action}}
	if !call.anonymous {
		query.Set("userId", c.cfg.UserID)
		query.Set("orgId", c.cfg.OrgID)
	}
	for name, values := range call.query {
		if len(values) > 0 && values[0] != "" {
			query.Set(name, values[0])
		}
	}
	x := exchange{
		op:     op,
		method: call.method,
		url:    c.baseURL + c.prefix + "/" + call.resource + "?" + encodeQuery(query),
		policy: call.policy,
		query:  query,
		signed: true,
	}
	if call.method == http.MethodPost {
		body, err := json.Marshal(call.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding the request: %w", op, err)
		}
		x.body = func() []byte { return body }
	}
	return c.exchange(ctx, x)
}

// decodeData unmarshals an envelope's data; null or absent data leaves out
// untouched.
func decodeData(op string, data json.RawMessage, out any) error {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &APIError{Operation: op, HTTPStatus: http.StatusOK, Message: "malformed response data: " + err.Error()}
	}
	return nil
}

// decodeItems unmarshals an envelope's data, a list, converting each item;
// null or absent data is no item.
func decodeItems[W, T any](op string, data json.RawMessage, convert func(W) T) ([]T, error) {
	var items []W
	if err := decodeData(op, data, &items); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, convert(it))
	}
	return out, nil
}

// encodeQuery encodes in sorted name order with spaces as %20, never '+'
// (SERVICE.md §2.2), so the gateway decodes exactly the values that were signed.
func encodeQuery(query url.Values) string {
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(name))
		b.WriteByte('=')
		b.WriteString(queryEscape(query.Get(name)))
	}
	return b.String()
}

// queryEscape relies on url.QueryEscape turning a literal '+' into %2B, so
// every remaining '+' stands for a space.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
