package enos

import (
	"context"
	"testing"
)

// ProbeSearch tells which sorter form a service accepts and where its
// pages start, from the runs it answers; with fewer than two runs it says
// it cannot tell.
func TestProbeSearch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		version   string
		snake     bool
		runs      int
		wantForm  string
		wantFirst int
	}{
		{"v2.0, camelCase", APIVersion20, false, 3, "camelCase", 0},
		{"v2.0, an older server's snake_case", APIVersion20, true, 3, "snake_case", 0},
		{"v2.1 pages from 1", APIVersion21, false, 3, "camelCase", 1},
		{"one run", APIVersion20, false, 1, "camelCase", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeService(t, tc.version)
			fs.snakeSorters = tc.snake
			addRuns(fs, tc.runs)
			c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
			got, err := c.ProbeSearch(context.Background(), 1001)
			if err != nil || got.SorterForm != tc.wantForm || got.FirstPage != tc.wantFirst {
				t.Errorf("got %+v, %v; want sorter %s, first page %d", got, err, tc.wantForm, tc.wantFirst)
			}
		})
	}
}
