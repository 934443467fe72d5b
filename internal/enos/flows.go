package enos

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// GetFlow returns a flow's definition (flows?action=get).
func (c *Client) GetFlow(ctx context.Context, flowID int64) (*Flow, error) {
	call := apiCall{resource: "flows", action: "get", method: http.MethodGet, policy: retryIdempotent,
		query: url.Values{"flowId": {strconv.FormatInt(flowID, 10)}}}
	if flowID <= 0 {
		return nil, fmt.Errorf("%s: flow id must be positive, got %d", call.operation(), flowID)
	}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	loc, err := c.serverLocation(ctx)
	if err != nil {
		return nil, err
	}
	var w wireFlow
	if err := decodeData(call.operation(), data, &w); err != nil {
		return nil, err
	}
	flow, err := w.decode(loc)
	if err != nil {
		return nil, &APIError{Operation: call.operation(), HTTPStatus: http.StatusOK, Message: "malformed response: " + err.Error()}
	}
	return flow, nil
}

// GetMyFlows lists the caller's flows whose name contains searchValue
// (all of them when it is empty).
func (c *Client) GetMyFlows(ctx context.Context, searchValue string) ([]FlowSummary, error) {
	call := apiCall{resource: "flows", action: "getMyFlow", method: http.MethodGet, policy: retryIdempotent,
		query: url.Values{"searchValue": {searchValue}}}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	var items []struct {
		FlowID   flexInt64 `json:"flowId"`
		FlowName string    `json:"flowName"`
		Cycle    string    `json:"cycle"`
		Editable bool      `json:"editable"`
	}
	if err := decodeData(call.operation(), data, &items); err != nil {
		return nil, err
	}
	flows := make([]FlowSummary, 0, len(items))
	for _, it := range items {
		flows = append(flows, FlowSummary{FlowID: int64(it.FlowID), FlowName: it.FlowName, Cycle: it.Cycle, Editable: it.Editable})
	}
	return flows, nil
}

// SearchFlows searches every flow of the OU, following pages.
func (c *Client) SearchFlows(ctx context.Context, s FlowSearch) ([]FlowRef, error) {
	pageSize := pageSizeOrDefault(s.PageSize)
	fetch := func(pageNo int) ([]FlowRef, error) {
		call := apiCall{resource: "flows", action: "search", method: http.MethodPost, policy: retryIdempotent,
			body: flowSearchBody{Expression: s.Expression, Pagination: pagination{PageNo: pageNo, PageSize: pageSize}}}
		data, err := c.do(ctx, call)
		if err != nil {
			return nil, err
		}
		var items []struct {
			FlowID   flexInt64 `json:"flowId"`
			FlowName string    `json:"flowName"`
		}
		if err := decodeData(call.operation(), data, &items); err != nil {
			return nil, err
		}
		refs := make([]FlowRef, 0, len(items))
		for _, it := range items {
			refs = append(refs, FlowRef{FlowID: int64(it.FlowID), FlowName: it.FlowName})
		}
		return refs, nil
	}
	return collectPages(c.firstPage, pageSize, s.MaxResults, fetch, func(f FlowRef) string { return strconv.FormatInt(f.FlowID, 10) })
}

type flowSearchBody struct {
	Expression string     `json:"expression,omitempty"`
	Pagination pagination `json:"pagination"`
}
