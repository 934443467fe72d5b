package enos

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// GetFlowInstance returns one run (flowInstances?action=get).
func (c *Client) GetFlowInstance(ctx context.Context, id string) (*FlowInstance, error) {
	call := apiCall{resource: "flowInstances", action: "get", method: http.MethodGet, policy: retryIdempotent,
		query: url.Values{"flowInstId": {id}}}
	if strings.TrimSpace(id) == "" {
		return nil, errors.New(call.operation() + ": flow instance id is empty")
	}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	var w wireInstance
	if err := decodeData(call.operation(), data, &w); err != nil {
		return nil, err
	}
	insts, err := c.decodeInstances(ctx, call.operation(), []wireInstance{w})
	if err != nil {
		return nil, err
	}
	return &insts[0], nil
}

func (c *Client) decodeInstances(ctx context.Context, op string, wires []wireInstance) ([]FlowInstance, error) {
	loc, err := c.serverLocation(ctx)
	if err != nil {
		return nil, err
	}
	insts := make([]FlowInstance, 0, len(wires))
	for i := range wires {
		inst, err := wires[i].decode(loc)
		if err != nil {
			return nil, &APIError{Operation: op, HTTPStatus: http.StatusOK, Message: "malformed response: instance " + wires[i].InstanceID + ": " + err.Error()}
		}
		insts = append(insts, *inst)
	}
	return insts, nil
}

type instanceSearchBody struct {
	Expression      string     `json:"expression,omitempty"`
	Owner           string     `json:"owner"`
	Status          string     `json:"status"`
	FromTriggerTime *int64     `json:"fromTriggerTime,omitempty"`
	ToTriggerTime   *int64     `json:"toTriggerTime,omitempty"`
	Pagination      pagination `json:"pagination"`
}

// SearchFlowInstances returns the runs FlowInstances yields.
func (c *Client) SearchFlowInstances(ctx context.Context, s InstanceSearch) ([]FlowInstance, error) {
	return collect(c.FlowInstances(ctx, s), 0)
}

// FlowInstances searches runs (SERVICE.md §3.8), streaming them: it fetches a
// page only when the caller asks for a run past the previous page, and
// stops after MaxResults runs, a short page, or an error (yielded last).
// Each request sends status (every code when none is given), owner,
// pagination and one sorter; runs are deduped by instance id. A sorter the
// server rejects in camelCase is retried once in snake_case.
func (c *Client) FlowInstances(ctx context.Context, s InstanceSearch) iter.Seq2[FlowInstance, error] {
	expression := s.Expression
	if s.FlowID > 0 && expression == "" {
		expression = strconv.FormatInt(s.FlowID, 10) + "-"
	}
	body := instanceSearchBody{
		Expression: expression,
		Owner:      s.Owner,
		Status:     statusFilter(s.Statuses),
		Pagination: pagination{PageSize: pageSizeOrDefault(s.PageSize)},
	}
	if !s.FromTriggerTime.IsZero() {
		ms := s.FromTriggerTime.UnixMilli()
		body.FromTriggerTime = &ms
	}
	if !s.ToTriggerTime.IsZero() {
		ms := s.ToTriggerTime.UnixMilli()
		body.ToTriggerTime = &ms
	}
	field := s.SortField
	if field == "" {
		field = "triggerTime"
	}
	order := "ASC"
	if s.SortDescending {
		order = "DESC"
	}
	sorterInSnakeCase := false
	fetch := func(pageNo int) ([]FlowInstance, error) {
		body.Pagination.PageNo = pageNo
		return c.searchSortedPage(ctx, body, field, order, &sorterInSnakeCase)
	}
	runs := pageItems(c.firstPage, body.Pagination.PageSize, fetch, func(i FlowInstance) string { return i.InstanceID })
	return func(yield func(FlowInstance, error) bool) {
		n := 0
		for inst, err := range runs {
			// The expression is a fuzzy match ("1001-" matches flow 11001
			// too), so MaxResults counts the flow's own runs.
			if err == nil && s.FlowID > 0 && inst.FlowID != s.FlowID {
				continue
			}
			if !yield(inst, err) || err != nil {
				return
			}
			if n++; n == s.MaxResults {
				return
			}
		}
	}
}

// searchSortedPage searches one page sorted by field, in snake_case once
// *inSnakeCase is set; a camelCase sorter the server rejects sets it and is
// retried once (SERVICE.md §3.8: the field names appear in both forms).
func (c *Client) searchSortedPage(ctx context.Context, body instanceSearchBody, field, order string, inSnakeCase *bool) ([]FlowInstance, error) {
	for {
		name := field
		if *inSnakeCase {
			name = snakeCase(field)
		}
		body.Pagination.Sorters = []sorter{{Field: name, Order: order}}
		page, err := c.searchInstancesPage(ctx, body)
		if err != nil && !*inSnakeCase && isIllegalSorter(err) && snakeCase(field) != field {
			*inSnakeCase = true
			continue
		}
		return page, err
	}
}

func (c *Client) searchInstancesPage(ctx context.Context, body instanceSearchBody) ([]FlowInstance, error) {
	call := apiCall{resource: "flowInstances", action: "search", method: http.MethodPost, policy: retryIdempotent, body: body}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	var out struct {
		FlowInsts []wireInstance `json:"flowInsts"`
	}
	if err := decodeData(call.operation(), data, &out); err != nil {
		return nil, err
	}
	return c.decodeInstances(ctx, call.operation(), out.FlowInsts)
}

func statusFilter(statuses []Status) string {
	if len(statuses) == 0 {
		return allStatusCodes
	}
	codes := make([]string, len(statuses))
	for i, s := range statuses {
		codes[i] = strconv.Itoa(int(s))
	}
	return strings.Join(codes, ",")
}

// snakeCase turns triggerTime into trigger_time.
func snakeCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CancelFlowInstance cancels a run (flowInstances?action=cancel).
// Cancelling is safe to repeat, so failures are retried like reads.
func (c *Client) CancelFlowInstance(ctx context.Context, id string) error {
	call := apiCall{resource: "flowInstances", action: "cancel", method: http.MethodPost, policy: retryIdempotent,
		body: struct {
			FlowInstID string `json:"flowInstId"`
		}{id}}
	if strings.TrimSpace(id) == "" {
		return errors.New(call.operation() + ": flow instance id is empty")
	}
	_, err := c.do(ctx, call)
	return err
}

// GetTaskInstanceLog returns a task instance's log, cut by the server to
// maxLength characters (0: the server's default).
//
// The log comes without control characters other than tab and newline
// (see printable), and without the client's secrets, should a task print
// them.
func (c *Client) GetTaskInstanceLog(ctx context.Context, taskInstID string, maxLength int) (string, error) {
	query := url.Values{"taskInstId": {taskInstID}}
	if maxLength > 0 {
		query.Set("maxLength", strconv.Itoa(maxLength))
	}
	call := apiCall{resource: "taskInstances", action: "getLog", method: http.MethodGet, policy: retryIdempotent, query: query}
	if strings.TrimSpace(taskInstID) == "" {
		return "", errors.New(call.operation() + ": task instance id is empty")
	}
	data, err := c.do(ctx, call)
	if err != nil {
		return "", err
	}
	var out struct {
		Log string `json:"log"`
	}
	err = decodeData(call.operation(), data, &out)
	return c.redact(printable(out.Log, "\t\n")), err
}
