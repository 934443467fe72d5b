// Package apim implements the EnOS API-gateway (APIM) credential scheme: the
// token request's encryption field and the per-request signature. The client
// and the emulator both use it, so the two can only agree on the published
// test vectors, which apim_test.go pins.
package apim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Header names of a signed service call.
const (
	HeaderAccessToken = "apim-accesstoken"
	HeaderSignature   = "apim-signature"
	HeaderTimestamp   = "apim-timestamp"
)

// TokenPath and RefreshPath are the token service's paths on the gateway host.
const (
	TokenPath   = "/apim-token-service/v2.0/token/get"
	RefreshPath = "/apim-token-service/v2.0/token/refresh"
)

// Encryption is the token request's proof of the secret:
// lowercase hex SHA-256 of appKey + timestamp (decimal ms) + appSecret.
func Encryption(appKey string, timestampMillis int64, appSecret string) string {
	return sha256Hex(appKey + strconv.FormatInt(timestampMillis, 10) + appSecret)
}

// CanonicalQuery concatenates name and decoded value of every query parameter
// in ascending byte order of the names, with no separators. Only the first
// value of a repeated name is signed, as the gateway does.
func CanonicalQuery(query url.Values) string {
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		if v := query[name]; len(v) > 0 {
			b.WriteString(v[0])
		}
	}
	return b.String()
}

// Signature signs one service call: lowercase hex SHA-256 of
// accessToken + CanonicalQuery(query) + body + timestamp + appSecret.
// body must be the exact bytes sent (nil for a GET); timestamp is the same
// decimal text sent in the apim-timestamp header.
func Signature(accessToken string, query url.Values, body []byte, timestamp, appSecret string) string {
	h := sha256.New()
	h.Write([]byte(accessToken))
	h.Write([]byte(CanonicalQuery(query)))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(appSecret))
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
