package emulator

import (
	"fmt"
	"testing"
)

// The request log keeps the newest entries within its size and body
// budget, and Count stays exact for the requests it dropped.
func TestRequestLogIsBounded(t *testing.T) {
	l := requestLog{size: 3}
	for i := range 5 {
		l.add(Request{Operation: "flows/get", Code: i})
	}
	got := l.all()
	if len(got) != 3 || got[0].Code != 2 || got[2].Code != 4 || l.counts["flows/get"] != 5 {
		t.Errorf("kept %+v, counted %d; want the last 3 of 5, counted 5", got, l.counts["flows/get"])
	}

	l = requestLog{size: defaultRequestLogSize}
	body := make([]byte, 1<<20)
	for range 300 {
		l.add(Request{Operation: "flows/updateAndTrigger", Body: body})
	}
	kept := l.all()
	if len(kept)*len(body) > maxRequestLogBytes || l.bytes > maxRequestLogBytes || len(kept) == 0 || l.counts["flows/updateAndTrigger"] != 300 {
		t.Errorf("300 bodies of 1 MiB: kept %d (%d bytes), counted %d; want at most %d bytes, all counted", len(kept), l.bytes, l.counts["flows/updateAndTrigger"], maxRequestLogBytes)
	}
	for i, r := range l.entries[:l.start] {
		if r.Body != nil {
			t.Fatalf("dropped entry %d still holds its body", i)
		}
	}

	l.reset()
	if len(l.all()) != 0 || l.counts["flows/updateAndTrigger"] != 0 || l.size != defaultRequestLogSize {
		t.Error("reset kept entries or counts, or lost the size")
	}
}

func TestRequestLogSizeOption(t *testing.T) {
	if _, err := New(Options{RequestLogSize: -1}); err == nil {
		t.Error("a negative request log size was accepted")
	}
	e, err := New(Options{RequestLogSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		e.record(&call{operation: fmt.Sprintf("op/%d", i%2)}, 200, 0, "")
	}
	if got := e.Requests(); len(got) != 2 || e.Count("op/0") != 2 {
		t.Errorf("kept %d, counted %d; want 2 and 2", len(got), e.Count("op/0"))
	}
}
