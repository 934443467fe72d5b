package enos

import "iter"

const defaultPageSize = 100

// pagination is the paging block of the search bodies (SERVICE.md §3.5).
type pagination struct {
	PageNo   int      `json:"pageNo"`
	PageSize int      `json:"pageSize"`
	Sorters  []sorter `json:"sorters,omitempty"`
}

type sorter struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// pageItems yields the items of the pages from firstPage on, fetching a
// page only when the consumer asks for an item past the previous one, until
// a page is short or a full page brings nothing new (a server that ignores
// pageNo). Items are deduped by key; the total the server may report is
// ignored. A failed fetch is yielded once, as the last element.
func pageItems[T any](firstPage, pageSize int, fetch func(pageNo int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := map[string]bool{}
		for pageNo := firstPage; ; pageNo++ {
			page, err := fetch(pageNo)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			added := 0
			for _, item := range page {
				k := key(item)
				if seen[k] {
					continue
				}
				seen[k] = true
				added++
				if !yield(item, nil) {
					return
				}
			}
			if len(page) < pageSize || added == 0 {
				return
			}
		}
	}
}

// collect gathers up to maxResults (0: no limit) items, stopping at the
// first error; no page is fetched past the last item it keeps.
func collect[T any](items iter.Seq2[T, error], maxResults int) ([]T, error) {
	var all []T
	for item, err := range items {
		if err != nil {
			return nil, err
		}
		all = append(all, item)
		if maxResults > 0 && len(all) == maxResults {
			break
		}
	}
	return all, nil
}

func pageSizeOrDefault(n int) int {
	if n > 0 {
		return n
	}
	return defaultPageSize
}
