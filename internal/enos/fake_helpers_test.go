package enos

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// Helpers of the in-test fake (fake_test.go) that only startrun_test.go and
// batch_internal_test.go still use; they go with the fake.

func rawReply(status int, contentType, body string) fakeHandler {
	return func(w http.ResponseWriter, r *http.Request, _ fakeCall) { rawAnswer(status, contentType, body)(w, r) }
}

// failFirst answers the first n calls with h, then behaves normally.
func failFirst(fs *fakeService, op string, n int, h fakeHandler) {
	normal := fs.handlers[op]
	var seen atomic.Int32
	fs.handle(op, func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		if int(seen.Add(1)) <= n {
			h(w, r, call)
			return
		}
		normal(w, r, call)
	})
}

func searchesSent(t *testing.T, fs *fakeService) []sentSearch {
	t.Helper()
	var out []sentSearch
	for _, call := range fs.callsOf("flowInstances/search") {
		out = append(out, decodeSearch(t, call.Body))
	}
	return out
}
