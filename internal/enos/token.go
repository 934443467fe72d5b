package enos

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
)

const (
	defaultTokenTTL = 7200 * time.Second
	// tokenRenewMargin: a token is renewed this long before it expires.
	tokenRenewMargin = 5 * time.Minute
	// maxTokenTTLSeconds bounds a server's expire so the duration cannot overflow.
	maxTokenTTLSeconds = 30 * 24 * 3600
)

// tokenCache holds the access token. The client never calls refresh, which
// may invalidate a token other clients share (SERVICE.md §2.1); it gets a new
// token near expiry instead.
type tokenCache struct {
	mu      sync.Mutex
	token   string
	renewAt time.Time
	fetches flight[string]
}

// tokenTimestamps holds, per gateway and app key, the timestamp of the
// process's last token request. Every Client of one process shares it (the
// provider's aliases, the tenant check's clients of two API versions): two
// token requests of one key in one millisecond would repeat an encryption,
// which the gateway rejects (1001).
var tokenTimestamps = struct {
	sync.Mutex
	last map[string]int64
}{last: map[string]int64{}}

// nextTokenTimestamp is now in ms, but later than the previous token
// request's of the same gateway and key in this process when that one is
// not older, by less than tokenTimestampSpread: a client whose clock is far
// from the last one's (a test's manual clock, an emulator started again on
// a port another used) keeps its own time, which its gateway checks.
func nextTokenTimestamp(gatewayKey string, now time.Time) int64 {
	tokenTimestamps.Lock()
	defer tokenTimestamps.Unlock()
	ts := now.UnixMilli()
	if last := tokenTimestamps.last[gatewayKey]; last >= ts && last-ts < tokenTimestampSpread.Milliseconds() {
		ts = last + 1
	}
	tokenTimestamps.last[gatewayKey] = ts
	return ts
}

// tokenTimestampSpread bounds how far a token timestamp moves past its
// clock to stay unique: far below the gateway's 15-minute window.
const tokenTimestampSpread = time.Minute

func (t *tokenCache) cached(now time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token, t.token != "" && now.Before(t.renewAt)
}

func (t *tokenCache) store(token string, obtainedAt time.Time, ttl time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token = token
	t.renewAt = obtainedAt.Add(ttl - min(tokenRenewMargin, ttl/2))
}

// invalidate forgets token unless another caller has already replaced it.
func (t *tokenCache) invalidate(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == token {
		t.token = ""
	}
}

// accessToken returns the cached token, or gets one; concurrent callers
// share one token request.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	if token, ok := c.tokens.cached(c.now()); ok {
		return token, nil
	}
	return c.tokens.fetches.do(ctx, c.fetchBound, func(ctx context.Context) (string, error) {
		// A fetch that finished just before this one started already did the work.
		if token, ok := c.tokens.cached(c.now()); ok {
			return token, nil
		}
		obtainedAt := c.now()
		token, ttl, err := c.getToken(ctx)
		if err != nil {
			return "", err
		}
		c.tokens.store(token, obtainedAt, ttl)
		return token, nil
	})
}

type tokenRequest struct {
	AppKey     string `json:"appKey"`
	Encryption string `json:"encryption"`
	Timestamp  int64  `json:"timestamp"`
}

const tokenOperation = "token/get"

// getToken calls token/get with a fresh timestamp on every attempt (a
// reused encryption is rejected with 1001).
func (c *Client) getToken(ctx context.Context) (string, time.Duration, error) {
	x := exchange{
		op:     tokenOperation,
		method: http.MethodPost,
		url:    c.baseURL + apim.TokenPath,
		policy: retryIdempotent,
		body: func() []byte {
			ts := nextTokenTimestamp(c.baseURL+" "+c.cfg.AccessKey, c.now())
			body, _ := json.Marshal(tokenRequest{ // strings and an int cannot fail to marshal
				AppKey:     c.cfg.AccessKey,
				Encryption: apim.Encryption(c.cfg.AccessKey, ts, c.cfg.SecretKey),
				Timestamp:  ts,
			})
			return body
		},
	}
	data, err := c.exchange(ctx, x)
	if isRepeatedToken(err) {
		// Another client of the app key sent a token request in the same
		// millisecond; the next attempt has a later timestamp.
		data, err = c.exchange(ctx, x)
	}
	if err != nil {
		return "", 0, err
	}
	var out struct {
		AccessToken string    `json:"accessToken"`
		Expire      flexInt64 `json:"expire"`
	}
	if err := decodeData(tokenOperation, data, &out); err != nil {
		return "", 0, err
	}
	if out.AccessToken == "" {
		return "", 0, &APIError{Operation: tokenOperation, HTTPStatus: http.StatusOK, Message: "malformed response: no accessToken in data"}
	}
	ttl := defaultTokenTTL
	if out.Expire > 0 {
		ttl = time.Duration(min(out.Expire, maxTokenTTLSeconds)) * time.Second
	}
	return out.AccessToken, ttl, nil
}
