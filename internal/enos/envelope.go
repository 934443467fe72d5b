package enos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// envelope is the response wrapper of every call (SERVICE.md §1.1). The result
// code is status (v2.0) or code (v2.1); both may be numbers or numeric strings.
type envelope struct {
	Status    *flexInt64      `json:"status"`
	Code      *flexInt64      `json:"code"`
	Msg       string          `json:"msg"`
	SubMsg    string          `json:"submsg"`
	RequestID string          `json:"requestId"`
	Data      json.RawMessage `json:"data"`
}

// decodeEnvelope turns one HTTP answer into its data and request id, or an
// *APIError. It never panics, whatever the body holds.
func decodeEnvelope(op string, httpStatus int, body []byte) (data json.RawMessage, requestID string, err error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, "", &APIError{Operation: op, HTTPStatus: httpStatus, Message: describeBadBody(httpStatus, body, err)}
	}
	var code *flexInt64
	switch {
	case env.Status != nil:
		code = env.Status
	case env.Code != nil:
		code = env.Code
	}
	if code == nil {
		if !is2xx(httpStatus) {
			return nil, env.RequestID, &APIError{Operation: op, HTTPStatus: httpStatus, Message: describeBadBody(httpStatus, body, nil), RequestID: env.RequestID}
		}
		return nil, env.RequestID, &APIError{Operation: op, HTTPStatus: httpStatus, Message: "malformed response: the envelope has neither status nor code", RequestID: env.RequestID}
	}
	if *code != codeOK || !is2xx(httpStatus) {
		msg := strings.TrimSpace(env.Msg)
		if msg == "" {
			msg = "request failed"
		}
		sub := strings.TrimSpace(env.SubMsg)
		if *code == codeStaleTimestamp && sub == "" {
			// The client's bodies are well-formed, so 1004 means the clock.
			sub = "the gateway refuses requests whose timestamp is more than 15 minutes from its own clock: check that this machine's clock is synchronized"
		}
		return nil, env.RequestID, &APIError{Operation: op, HTTPStatus: httpStatus, Code: int(*code), Message: msg, SubMessage: sub, RequestID: env.RequestID}
	}
	return env.Data, env.RequestID, nil
}

var (
	htmlTag    = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)
	whitespace = regexp.MustCompile(`\s+`)
)

const maxSnippet = 200

// describeBadBody explains a body that is not an envelope, quoting a short,
// tag-free snippet of it (an HTML error page becomes "502 Bad Gateway ...").
func describeBadBody(httpStatus int, body []byte, decodeErr error) string {
	var b strings.Builder
	if is2xx(httpStatus) {
		b.WriteString("malformed response")
	} else {
		b.WriteString("unexpected response")
	}
	if decodeErr != nil {
		if len(bytes.TrimSpace(body)) == 0 {
			b.WriteString(": empty body")
		} else {
			fmt.Fprintf(&b, " (%v)", decodeErr)
		}
	}
	snippet := whitespace.ReplaceAllString(htmlTag.ReplaceAllString(string(body), " "), " ")
	snippet = strings.ToValidUTF8(strings.TrimSpace(snippet), "")
	if len(snippet) > maxSnippet {
		snippet = strings.ToValidUTF8(snippet[:maxSnippet], "") + "..."
	}
	if snippet != "" {
		b.WriteString(": " + snippet)
	}
	return b.String()
}
