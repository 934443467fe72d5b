package enos

const defaultPageSize = 100

// pagination is the paging block of the search bodies (spec §3.5).
type pagination struct {
	PageNo   int      `json:"pageNo"`
	PageSize int      `json:"pageSize"`
	Sorters  []sorter `json:"sorters,omitempty"`
}

type sorter struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// collectPages fetches pages from firstPage on until a page is short,
// maxResults (0: no limit) items are collected, or a full page brings
// nothing new (a server that ignores pageNo). Items are deduped by key;
// the total the server may report is ignored.
func collectPages[T any](firstPage, pageSize, maxResults int, fetch func(pageNo int) ([]T, error), key func(T) string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for pageNo := firstPage; ; pageNo++ {
		page, err := fetch(pageNo)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, item := range page {
			k := key(item)
			if seen[k] {
				continue
			}
			seen[k] = true
			all = append(all, item)
			added++
			if maxResults > 0 && len(all) == maxResults {
				return all, nil
			}
		}
		if len(page) < pageSize || added == 0 {
			return all, nil
		}
	}
}

func pageSizeOrDefault(n int) int {
	if n > 0 {
		return n
	}
	return defaultPageSize
}
