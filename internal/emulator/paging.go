package emulator

import (
	"slices"
	"strings"
	"time"
)

type pagination struct {
	PageNo   *int     `json:"pageNo"`
	PageSize *int     `json:"pageSize"`
	Sorters  []sorter `json:"sorters"`
}

type sorter struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// defaultPageSize applies when a search has no pagination.
const defaultPageSize = 10

// paginate sorts items by the sorters (camelCase or snake_case field names,
// ASC by default; unsorted order kept otherwise) and cuts out the requested
// page. pageNo counts from 0 on v2.0 and from 1 on v2.1.
func paginate[T any](c *call, p *pagination, items []T, keys map[string]func(T) time.Time) ([]T, *reply) {
	base := 0
	if c.version == "v2.1" {
		base = 1
	}
	pageNo, pageSize := base, defaultPageSize
	if p != nil {
		if p.PageNo == nil || p.PageSize == nil || *p.PageSize <= 0 || *p.PageNo < base {
			r := invalidBody()
			return nil, &r
		}
		pageNo, pageSize = *p.PageNo, *p.PageSize
		if r := sortBy(items, p.Sorters, keys); r != nil {
			return nil, r
		}
	}
	from := min((pageNo-base)*pageSize, len(items))
	return items[from:min(from+pageSize, len(items))], nil
}

func sortBy[T any](items []T, sorters []sorter, keys map[string]func(T) time.Time) *reply {
	type key struct {
		get  func(T) time.Time
		desc bool
	}
	var ks []key
	for _, s := range sorters {
		get, ok := keys[camelCase(s.Field)]
		if !ok {
			r := fail(codeInvalid, msgIllegalSorter)
			return &r
		}
		switch strings.ToUpper(s.Order) {
		case "", "ASC":
			ks = append(ks, key{get: get})
		case "DESC":
			ks = append(ks, key{get: get, desc: true})
		default:
			r := invalidBody()
			return &r
		}
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, k := range ks {
			c := k.get(a).Compare(k.get(b))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}

// camelCase turns "start_time" into "startTime"; camelCase names pass unchanged.
func camelCase(field string) string {
	parts := strings.Split(field, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
