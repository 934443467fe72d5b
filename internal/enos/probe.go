package enos

import (
	"context"
	"slices"
	"strconv"
)

// SearchProbe is what a flow's run search shows of two points SERVICE.md
// §3.8 leaves open (API-INFERENCES.md, run search), for the tenant check:
// the client copes with either answer on its own.
type SearchProbe struct {
	// SorterForm is the form of the sorter field the service accepted:
	// "camelCase" (triggerTime) or "snake_case" (trigger_time).
	SorterForm string
	// FirstPage is the pageNo of the first page, 0 or 1; -1 when the runs
	// cannot tell (fewer than two), or the service ignores pageNo.
	FirstPage int
}

// ProbeSearch reads the flow's newest runs one page at a time, at pageNo
// 0, 1 and 2, and says which sorter form was accepted and where the pages
// start: a service counting from 1 refuses pageNo 0, answers it as page 1,
// or with nothing.
func (c *Client) ProbeSearch(ctx context.Context, flowID int64) (SearchProbe, error) {
	probe := SearchProbe{FirstPage: -1}
	body := instanceSearchBody{Expression: strconv.FormatInt(flowID, 10) + "-", Status: statusFilter(nil), Pagination: pagination{PageSize: 1}}
	inSnakeCase := false
	page := func(pageNo int) ([]string, error) {
		body.Pagination.PageNo = pageNo
		runs, err := c.searchSortedPage(ctx, body, "triggerTime", "DESC", &inSnakeCase)
		ids := make([]string, len(runs))
		for i, r := range runs {
			ids[i] = r.InstanceID
		}
		return ids, err
	}
	var pages [3][]string
	zeroRefused := false
	for n := range pages {
		ids, err := page(n)
		if n == 0 && KindOf(err) == KindInvalidRequest {
			zeroRefused = true // a service counting from 1 may refuse 0
			continue
		}
		if err != nil {
			return SearchProbe{}, err
		}
		pages[n] = ids
	}
	probe.SorterForm = map[bool]string{false: "camelCase", true: "snake_case"}[inSnakeCase]
	switch {
	case zeroRefused && len(pages[1]) > 0:
		probe.FirstPage = 1
	case len(pages[1]) == 0 && len(pages[0]) == 0:
	case slices.Equal(pages[0], pages[1]) && len(pages[2]) > 0 && !slices.Equal(pages[1], pages[2]):
		probe.FirstPage = 1 // pageNo 0 answered as page 1
	case len(pages[0]) == 0 && len(pages[1]) > 0:
		probe.FirstPage = 1
	case len(pages[1]) > 0 && !slices.Equal(pages[0], pages[1]):
		probe.FirstPage = 0
	}
	return probe, nil
}
