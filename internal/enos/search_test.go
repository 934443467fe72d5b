package enos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// addRuns adds n runs of flow 1001, one a minute.
func addRuns(fs *fakeService, n int) {
	const flowID = 1001
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, gmt8)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		fs.addInstance(fakeInstance{ID: fmt.Sprintf("%d-%s00", flowID, at.Format("200601021504")), FlowID: flowID, TriggerTime: at})
	}
}

type sentSearch struct {
	Expression string  `json:"expression"`
	Owner      *string `json:"owner"`
	Status     string  `json:"status"`
	Type       *int    `json:"type"`
	Pagination struct {
		PageNo   int      `json:"pageNo"`
		PageSize int      `json:"pageSize"`
		Sorters  []sorter `json:"sorters"`
	} `json:"pagination"`
}

func searchesSent(t *testing.T, fs *fakeService) []sentSearch {
	t.Helper()
	var out []sentSearch
	for _, call := range fs.callsOf("flowInstances/search") {
		var s sentSearch
		if err := json.Unmarshal(call.Body, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestSearchFollowsPagesFromTheVersionsFirstPage(t *testing.T) {
	for _, version := range []string{APIVersion20, APIVersion21} {
		t.Run(version, func(t *testing.T) {
			fs := newFakeService(t, version)
			addRuns(fs, 5)
			c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
			got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{Expression: "1001-", PageSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 5 {
				t.Fatalf("got %d instances, want 5", len(got))
			}
			sent := searchesSent(t, fs)
			first := 0
			if version == APIVersion21 {
				first = 1
			}
			if len(sent) != 3 || sent[0].Pagination.PageNo != first || sent[2].Pagination.PageNo != first+2 {
				t.Fatalf("pages sent %+v", sent)
			}
			s := sent[0]
			if s.Status != "-1,0,1,2,3,4,5,6,7,8,9,10" || s.Owner == nil || *s.Owner != "" || s.Type != nil ||
				len(s.Pagination.Sorters) != 1 || s.Pagination.Sorters[0] != (sorter{Field: "triggerTime", Order: "ASC"}) {
				t.Errorf("search body %+v", s)
			}
		})
	}
}

func TestSearchStopsAtMaxResultsAndOnRepeatedPages(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	addRuns(fs, 5)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2, MaxResults: 3, Statuses: []Status{StatusRunning, StatusWait}})
	if err != nil || len(got) != 3 || len(searchesSent(t, fs)) != 2 || searchesSent(t, fs)[0].Status != "2,5" {
		t.Fatalf("got %d instances in %d searches, err %v", len(got), len(searchesSent(t, fs)), err)
	}

	// A server that ignores pageNo repeats its first page forever.
	fs2 := newFakeService(t, APIVersion20)
	addRuns(fs2, 2)
	fs2.handle("flowInstances/search", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		var body map[string]json.RawMessage
		_ = json.Unmarshal(call.Body, &body)
		body["pagination"] = json.RawMessage(`{"pageNo":0,"pageSize":2}`)
		call.Body, _ = json.Marshal(body)
		fs2.serveInstanceSearch(w, r, call)
	})
	c2, _ := newTestClient(t, fs2, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	got, err = c2.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2})
	if err != nil || len(got) != 2 || fs2.count("flowInstances/search") != 2 {
		t.Errorf("got %d instances in %d searches, err %v", len(got), fs2.count("flowInstances/search"), err)
	}
}

func TestSearchRetriesTheSorterInSnakeCaseOnce(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.snakeSorters = true
	addRuns(fs, 3)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2, SortField: "startTime", SortDescending: true})
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d, err %v", len(got), err)
	}
	var fields []string
	for _, s := range searchesSent(t, fs) {
		fields = append(fields, s.Pagination.Sorters[0].Field+" "+s.Pagination.Sorters[0].Order)
	}
	if want := []string{"startTime DESC", "start_time DESC", "start_time DESC"}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("sorters sent %v, want %v", fields, want)
	}

	// A server rejecting both forms: one retry, then the error.
	fs.handle("flowInstances/search", rawReply(200, "application/json", `{"status":62102,"msg":"illegal sorted by field"}`))
	before := fs.count("flowInstances/search")
	c2, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	if _, err := c2.SearchFlowInstances(context.Background(), InstanceSearch{}); !isIllegalSorter(err) || fs.count("flowInstances/search")-before != 2 {
		t.Errorf("err %v after %d searches", err, fs.count("flowInstances/search")-before)
	}
}

func TestSearchDedupesByInstanceID(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flowInstances/search", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		var s sentSearch
		_ = json.Unmarshal(call.Body, &s)
		items := []map[string]any{{"instanceId": "a", "flowId": 1}, {"instanceId": "b", "flowId": 1}}
		if s.Pagination.PageNo == 1 {
			items = []map[string]any{{"instanceId": "b", "flowId": "1"}} // shifted by a new run
		}
		fs.ok(w, map[string]any{"flowInsts": items, "count": 99})
	})
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2})
	if err != nil || len(got) != 2 || got[0].InstanceID != "a" || got[1].InstanceID != "b" {
		t.Errorf("got %+v, err %v", got, err)
	}
}

func TestSearchFlows(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/search", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		var s sentSearch
		_ = json.Unmarshal(call.Body, &s)
		if s.Expression != "load" {
			t.Errorf("expression %q", s.Expression)
		}
		items := []map[string]any{{"flowId": "1", "flowName": "load a"}, {"flowId": 2, "flowName": "load b"}}
		if s.Pagination.PageNo > 0 {
			items = items[:1:1]
			items[0] = map[string]any{"flowId": "3", "flowName": "load c"}
		}
		fs.ok(w, items)
	})
	c, _ := newTestClient(t, fs, nil)
	got, err := c.SearchFlows(context.Background(), FlowSearch{Expression: "load", PageSize: 2})
	want := []FlowRef{{1, "load a"}, {2, "load b"}, {3, "load c"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, err %v", got, err)
	}
}

// FlowID searches by the expression "<flowId>-" and keeps only that flow's
// runs; MaxResults counts those.
func TestSearchByFlowIDKeepsExactMatches(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	for i := range 6 {
		at := runNow.Add(time.Duration(i) * time.Minute)
		flowID := int64(11001)
		if i%2 == 0 {
			flowID = 1001
		}
		fs.addInstance(fakeInstance{ID: fmt.Sprintf("%d-%s00", flowID, at.Format("200601021504")), FlowID: flowID, TriggerTime: at})
	}
	c, _ := newTestClient(t, fs, nil)
	found, err := c.SearchFlowInstances(context.Background(), InstanceSearch{FlowID: 1001, PageSize: 2, MaxResults: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].FlowID != 1001 || found[1].FlowID != 1001 {
		t.Errorf("found %+v, want two runs of flow 1001", found)
	}
	var body struct {
		Expression string `json:"expression"`
	}
	if err := json.Unmarshal(fs.callsOf("flowInstances/search")[0].Body, &body); err != nil || body.Expression != "1001-" {
		t.Errorf("expression = %q (%v), want \"1001-\"", body.Expression, err)
	}
}

// FlowInstances fetches a page only when its consumer asks for a run past
// the previous page: stopping early sends no further search.
func TestFlowInstancesFetchesPagesLazily(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	addRuns(fs, 5)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	var seen []string
	for inst, err := range c.FlowInstances(context.Background(), InstanceSearch{FlowID: 1001, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, inst.InstanceID)
		if got, want := fs.count("flowInstances/search"), (len(seen)+1)/2; got != want {
			t.Errorf("after %d runs: %d searches sent, want %d", len(seen), got, want)
		}
		if len(seen) == 3 {
			break
		}
	}
	if len(seen) != 3 || fs.count("flowInstances/search") != 2 {
		t.Errorf("got %v in %d searches, want 3 runs in 2", seen, fs.count("flowInstances/search"))
	}

	// MaxResults at a page's end: the next page is not fetched.
	before := fs.count("flowInstances/search")
	n := 0
	for _, err := range c.FlowInstances(context.Background(), InstanceSearch{PageSize: 2, MaxResults: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 || fs.count("flowInstances/search")-before != 2 {
		t.Errorf("got %d runs in %d searches, want 4 in 2", n, fs.count("flowInstances/search")-before)
	}
}

// A failed page is yielded once, after the runs of the pages before it.
func TestFlowInstancesYieldsAFailedPageLast(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	addRuns(fs, 3)
	fs.handle("flowInstances/search", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		var s sentSearch
		_ = json.Unmarshal(call.Body, &s)
		if s.Pagination.PageNo == 1 {
			rawReply(200, "application/json", `{"status":62109,"msg":"no such page"}`)(w, r, call)
			return
		}
		fs.serveInstanceSearch(w, r, call)
	})
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	var runs, errs int
	for _, err := range c.FlowInstances(context.Background(), InstanceSearch{PageSize: 2}) {
		if err != nil {
			errs++
			continue
		}
		if errs > 0 {
			t.Error("a run after the error")
		}
		runs++
	}
	if runs != 2 || errs != 1 {
		t.Errorf("got %d runs and %d errors, want 2 and 1", runs, errs)
	}
}
