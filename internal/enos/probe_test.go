package enos

import (
	"context"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// ProbeSearch tells which sorter form a service accepts and where its
// pages start, from the runs it answers; with fewer than two runs it says
// it cannot tell.
func TestProbeSearch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		version   string
		runs      int
		wantFirst int
	}{
		{"v2.0", APIVersion20, 3, 0},
		{"v2.1 pages from 1", APIVersion21, 3, 1},
		{"one run", APIVersion20, 1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := emulator.NewManualClock(time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8))
			srv := newEmu(t, emulator.Options{Clock: clock})
			c, _ := srv.client(t, func(cfg *Config) { cfg.APIVersion = tc.version })
			startRuns(t, c, clock.Now().Add(-time.Hour), tc.runs)
			got, err := c.ProbeSearch(context.Background(), 1001)
			if err != nil || got.SorterForm != "camelCase" || got.FirstPage != tc.wantFirst {
				t.Errorf("got %+v, %v; want sorter camelCase, first page %d", got, err, tc.wantFirst)
			}
		})
	}
}

// An older server that refuses camelCase sorters (the emulator takes both
// forms) is probed as snake_case.
func TestProbeSearchOfASnakeCaseServer(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	w.handle("flowInstances/search", snakeCaseSearch(w, []string{"1001-20240101000200", "1001-20240101000100", "1001-20240101000000"}, nil))
	got, err := w.client.ProbeSearch(context.Background(), 1001)
	if err != nil || got.SorterForm != "snake_case" || got.FirstPage != 0 {
		t.Errorf("got %+v, %v; want sorter snake_case, first page 0", got, err)
	}
}
