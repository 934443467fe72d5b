package enos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

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

func decodeSearch(t *testing.T, body []byte) sentSearch {
	t.Helper()
	var s sentSearch
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("search body %s: %v", body, err)
	}
	return s
}

// searchesOf decodes the run searches the emulator received.
func searchesOf(t *testing.T, srv *emu) []sentSearch {
	t.Helper()
	var out []sentSearch
	for _, r := range srv.requestsOf("flowInstances/search") {
		out = append(out, decodeSearch(t, r.Body))
	}
	return out
}

// searchEmu is an emulator stopped at a time after the runs of startRuns
// from searchStart, and a client of it.
func searchEmu(t *testing.T, version string) (*emu, *Client) {
	t.Helper()
	srv := newEmu(t, emulator.Options{Clock: emulator.NewManualClock(searchStart.Add(time.Hour))})
	c, _ := srv.client(t, func(cfg *Config) { cfg.APIVersion = version; cfg.ServerTimeZone = "GMT+8" })
	return srv, c
}

var searchStart = time.Date(2024, 1, 1, 0, 0, 0, 0, gmt8)

// snakeCaseSearch is an older server's run search: it refuses a camelCase
// sorter field and answers the runs of ids, in that order, a page at a
// time; sent gets each search it answers.
func snakeCaseSearch(w *wire, ids []string, sent *[]sentSearch) http.HandlerFunc {
	var mu sync.Mutex
	return func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := decodeSearch(w.t, body)
		mu.Lock()
		if sent != nil {
			*sent = append(*sent, s)
		}
		mu.Unlock()
		for _, sorter := range s.Pagination.Sorters {
			if strings.ContainsAny(sorter.Field, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				writeJSON(rw, map[string]any{w.resultKey: 62102, "msg": "illegal sorted by field"})
				return
			}
		}
		page := []map[string]any{}
		for i := s.Pagination.PageNo * s.Pagination.PageSize; i >= 0 && i < len(ids) && len(page) < s.Pagination.PageSize; i++ {
			page = append(page, map[string]any{"instanceId": ids[i], "flowId": 1001})
		}
		w.ok(rw, map[string]any{"flowInsts": page, "count": len(ids)})
	}
}

func TestSearchFollowsPagesFromTheVersionsFirstPage(t *testing.T) {
	for _, version := range []string{APIVersion20, APIVersion21} {
		t.Run(version, func(t *testing.T) {
			srv, c := searchEmu(t, version)
			startRuns(t, c, searchStart, 5)
			got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{Expression: "1001-", PageSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 5 {
				t.Fatalf("got %d instances, want 5", len(got))
			}
			sent := searchesOf(t, srv)
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
	// On a stopped clock the first run is READY and the others wait for it.
	srv, c := searchEmu(t, APIVersion20)
	startRuns(t, c, searchStart, 5)
	got, err := c.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2, MaxResults: 3, Statuses: []Status{StatusRunning, StatusWait}})
	if err != nil || len(got) != 3 || len(searchesOf(t, srv)) != 2 || searchesOf(t, srv)[0].Status != "2,5" {
		t.Fatalf("got %d instances in %d searches, err %v", len(got), len(searchesOf(t, srv)), err)
	}

	// A server that ignores pageNo repeats its first page forever.
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	var searches atomic.Int32
	w.handle("flowInstances/search", func(rw http.ResponseWriter, _ *http.Request) {
		searches.Add(1)
		w.ok(rw, map[string]any{"flowInsts": []map[string]any{{"instanceId": "1001-1", "flowId": 1001}, {"instanceId": "1001-2", "flowId": 1001}}, "count": 2})
	})
	got, err = w.client.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2})
	if err != nil || len(got) != 2 || searches.Load() != 2 {
		t.Errorf("got %d instances in %d searches, err %v", len(got), searches.Load(), err)
	}
}

func TestSearchRetriesTheSorterInSnakeCaseOnce(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	var sent []sentSearch
	w.handle("flowInstances/search", snakeCaseSearch(w, []string{"1001-3", "1001-2", "1001-1"}, &sent))
	got, err := w.client.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2, SortField: "startTime", SortDescending: true})
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d, err %v", len(got), err)
	}
	var fields []string
	for _, s := range sent {
		fields = append(fields, s.Pagination.Sorters[0].Field+" "+s.Pagination.Sorters[0].Order)
	}
	if want := []string{"startTime DESC", "start_time DESC", "start_time DESC"}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("sorters sent %v, want %v", fields, want)
	}

	// A server rejecting both forms: one retry, then the error.
	refusing := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	var searches atomic.Int32
	refusing.handle("flowInstances/search", func(rw http.ResponseWriter, r *http.Request) {
		searches.Add(1)
		jsonAnswer(`{"status":62102,"msg":"illegal sorted by field"}`)(rw, r)
	})
	if _, err := refusing.client.SearchFlowInstances(context.Background(), InstanceSearch{}); !isIllegalSorter(err) || searches.Load() != 2 {
		t.Errorf("err %v after %d searches", err, searches.Load())
	}
}

func TestSearchDedupesByInstanceID(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	w.handle("flowInstances/search", func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		items := []map[string]any{{"instanceId": "a", "flowId": 1}, {"instanceId": "b", "flowId": 1}}
		if decodeSearch(t, body).Pagination.PageNo == 1 {
			items = []map[string]any{{"instanceId": "b", "flowId": "1"}} // shifted by a new run
		}
		w.ok(rw, map[string]any{"flowInsts": items, "count": 99})
	})
	got, err := w.client.SearchFlowInstances(context.Background(), InstanceSearch{PageSize: 2})
	if err != nil || len(got) != 2 || got[0].InstanceID != "a" || got[1].InstanceID != "b" {
		t.Errorf("got %+v, err %v", got, err)
	}
}

// Flow ids come as numbers or strings; pages are followed to the last.
func TestSearchFlows(t *testing.T) {
	w := newWire(t, nil)
	w.handle("flows/search", func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := decodeSearch(t, body)
		if s.Expression != "load" {
			t.Errorf("expression %q", s.Expression)
		}
		items := []map[string]any{{"flowId": "1", "flowName": "load a"}, {"flowId": 2, "flowName": "load b"}}
		if s.Pagination.PageNo > 0 {
			items = []map[string]any{{"flowId": "3", "flowName": "load c"}}
		}
		w.ok(rw, items)
	})
	got, err := w.client.SearchFlows(context.Background(), FlowSearch{Expression: "load", PageSize: 2})
	want := []FlowRef{{1, "load a"}, {2, "load b"}, {3, "load c"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, err %v", got, err)
	}
}

// FlowID searches by the expression "<flowId>-" and keeps only that flow's
// runs; MaxResults counts those. The runs of flow 11001 match the
// expression too.
func TestSearchByFlowIDKeepsExactMatches(t *testing.T) {
	srv, c := searchEmu(t, APIVersion20)
	if err := srv.AddFlow(emulator.FlowSpec{ID: 11001, Name: "other", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"},
		Tasks: []emulator.TaskSpec{{Name: "t", Duration: emulator.Duration(time.Second)}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		flowID := int64(11001)
		if i%2 == 0 {
			flowID = 1001
		}
		if _, err := c.updateAndTrigger(t.Context(), TriggerRequest{FlowID: flowID, TriggerTime: searchStart.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	found, err := c.SearchFlowInstances(context.Background(), InstanceSearch{FlowID: 1001, PageSize: 2, MaxResults: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].FlowID != 1001 || found[1].FlowID != 1001 {
		t.Errorf("found %+v, want two runs of flow 1001", found)
	}
	if s := searchesOf(t, srv); s[0].Expression != "1001-" {
		t.Errorf("expression = %q, want \"1001-\"", s[0].Expression)
	}
}

// FlowInstances fetches a page only when its consumer asks for a run past
// the previous page: stopping early sends no further search.
func TestFlowInstancesFetchesPagesLazily(t *testing.T) {
	srv, c := searchEmu(t, APIVersion20)
	startRuns(t, c, searchStart, 5)
	var seen []string
	for inst, err := range c.FlowInstances(context.Background(), InstanceSearch{FlowID: 1001, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, inst.InstanceID)
		if got, want := srv.Count("flowInstances/search"), (len(seen)+1)/2; got != want {
			t.Errorf("after %d runs: %d searches sent, want %d", len(seen), got, want)
		}
		if len(seen) == 3 {
			break
		}
	}
	if len(seen) != 3 || srv.Count("flowInstances/search") != 2 {
		t.Errorf("got %v in %d searches, want 3 runs in 2", seen, srv.Count("flowInstances/search"))
	}

	// MaxResults at a page's end: the next page is not fetched.
	before := srv.Count("flowInstances/search")
	n := 0
	for _, err := range c.FlowInstances(context.Background(), InstanceSearch{PageSize: 2, MaxResults: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 || srv.Count("flowInstances/search")-before != 2 {
		t.Errorf("got %d runs in %d searches, want 4 in 2", n, srv.Count("flowInstances/search")-before)
	}
}

// A failed page is yielded once, after the runs of the pages before it.
func TestFlowInstancesYieldsAFailedPageLast(t *testing.T) {
	srv, c := searchEmu(t, APIVersion20)
	startRuns(t, c, searchStart, 3)
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
		if runs == 2 { // the next page fails
			srv.InjectFault(emulator.Fault{Operation: "flowInstances/search", Kind: emulator.FaultInternal, Count: 1})
		}
	}
	if runs != 2 || errs != 1 {
		t.Errorf("got %d runs and %d errors, want 2 and 1", runs, errs)
	}
}
