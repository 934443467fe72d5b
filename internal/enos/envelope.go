package enos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// envelope is the response wrapper of every call (SERVICE.md §1.1). The result
// code is status (v2.0) or code (v2.1); both may be numbers or numeric strings.
type envelope struct {
	Status    *flexInt        `json:"status"`
	Code      *flexInt        `json:"code"`
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
	var code *flexInt
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
		msg := strings.TrimSpace(printable(env.Msg, ""))
		if msg == "" {
			msg = "request failed"
		}
		sub := strings.TrimSpace(printable(env.SubMsg, ""))
		if *code == codeStaleTimestamp && sub == "" {
			// The client's bodies are well-formed, so 1004 means the clock.
			sub = "the gateway refuses requests whose timestamp is more than 15 minutes from its own clock: check that this machine's clock is synchronized"
		}
		return nil, env.RequestID, &APIError{Operation: op, HTTPStatus: httpStatus, Code: int(*code), Message: msg, SubMessage: sub, RequestID: env.RequestID}
	}
	return env.Data, env.RequestID, nil
}

const (
	// maxSnippet bounds the quote of a bad body in an error.
	maxSnippet = 200
	// maxScanned bounds how much of a bad body is read to make that quote:
	// an error page says what it is in its first lines.
	maxScanned = 4 << 10
)

// describeBadBody explains a body that is not an envelope, quoting a short,
// tag-free snippet of it (an HTML error page becomes "502 Bad Gateway ...").
// A successful JSON answer is not quoted: it may be a reply that carries a
// secret (a token) with one field of the wrong type, and the decode error
// says what is wrong with it. Error answers are quoted, JSON or not.
func describeBadBody(httpStatus int, body []byte, decodeErr error) string {
	var b strings.Builder
	if is2xx(httpStatus) {
		b.WriteString("malformed response")
	} else {
		b.WriteString("unexpected response")
	}
	trimmed := bytes.TrimSpace(body)
	if decodeErr != nil {
		if len(trimmed) == 0 {
			b.WriteString(": empty body")
		} else {
			fmt.Fprintf(&b, " (%v)", decodeErr)
		}
	}
	if is2xx(httpStatus) && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return b.String()
	}
	if snippet := bodySnippet(body); snippet != "" {
		b.WriteString(": " + snippet)
	}
	return b.String()
}

// bodySnippet is the text of the start of body without markup, scripts,
// styles or control characters, with blanks collapsed, at most maxSnippet
// bytes. It reads at most maxScanned bytes, each once.
func bodySnippet(body []byte) string {
	text := string(body[:min(len(body), maxScanned)])
	var out strings.Builder
	for len(text) > 0 && out.Len() <= maxSnippet {
		open := strings.IndexByte(text, '<')
		if open < 0 {
			out.WriteString(text)
			break
		}
		out.WriteString(text[:open])
		out.WriteByte(' ')
		text = text[open:]
		end := strings.IndexByte(text, '>')
		if end < 0 {
			break // an unclosed tag: the rest is markup
		}
		tag := strings.ToLower(text[1:end])
		text = text[end+1:]
		for _, skipped := range []string{"script", "style"} {
			if strings.HasPrefix(tag, skipped) {
				// The element's content is code, not text.
				closing := strings.Index(strings.ToLower(text), "</"+skipped)
				if closing < 0 {
					text = ""
				} else {
					text = text[closing:]
				}
			}
		}
	}
	snippet := strings.Join(strings.Fields(printable(out.String(), "")), " ")
	if len(snippet) > maxSnippet {
		snippet = strings.ToValidUTF8(snippet[:maxSnippet], "") + "..."
	}
	return snippet
}

// printable is s as valid UTF-8 without control characters other than
// those in keep, each replaced by a blank: text from the service is shown
// in terminals, where an escape sequence could rewrite what the user sees.
func printable(s, keep string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !strings.ContainsRune(keep, r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
