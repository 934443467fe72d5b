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
	w, op, err := c.getFlow(ctx, flowID)
	if err != nil {
		return nil, err
	}
	loc, err := c.serverLocation(ctx)
	if err != nil {
		return nil, err
	}
	flow, err := w.decode(loc)
	if err != nil {
		return nil, &APIError{Operation: op, HTTPStatus: http.StatusOK, Message: "malformed response: " + err.Error()}
	}
	return flow, nil
}

// FlowGlobals returns a flow's name and global parameters. A Client reads
// each flow once: a plan checks many triggers of the same flows, and a
// flow's parameters do not change within one Terraform command. Unlike
// GetFlow it needs no server time zone.
func (c *Client) FlowGlobals(ctx context.Context, flowID int64) (*FlowGlobals, error) {
	return c.flowGlobals.of(flowID).get(ctx, c.fetchBound, func(ctx context.Context) (*FlowGlobals, error) {
		w, op, err := c.getFlow(ctx, flowID)
		if err != nil {
			return nil, err
		}
		params, err := w.Parameters.parameters()
		if err != nil {
			return nil, &APIError{Operation: op, HTTPStatus: http.StatusOK, Message: "malformed response: " + err.Error()}
		}
		return &FlowGlobals{FlowID: int64(w.FlowID), FlowName: w.FlowName, Cycle: w.Cycle, Parameters: params}, nil
	})
}

func (c *Client) getFlow(ctx context.Context, flowID int64) (*wireFlow, string, error) {
	call := apiCall{resource: "flows", action: "get", method: http.MethodGet, policy: retryIdempotent,
		query: url.Values{"flowId": {strconv.FormatInt(flowID, 10)}}}
	if flowID <= 0 {
		return nil, call.operation(), fmt.Errorf("%s: flow id must be positive, got %d", call.operation(), flowID)
	}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, call.operation(), err
	}
	var w wireFlow
	if err := decodeData(call.operation(), data, &w); err != nil {
		return nil, call.operation(), err
	}
	return &w, call.operation(), nil
}

// GetMyFlows lists the caller's flows whose name contains searchValue
// (all of them when it is empty). v2.1 names the filter expression.
func (c *Client) GetMyFlows(ctx context.Context, searchValue string) ([]FlowSummary, error) {
	filter := "searchValue"
	if c.cfg.APIVersion == APIVersion21 {
		filter = "expression"
	}
	call := apiCall{resource: "flows", action: "getMyFlow", method: http.MethodGet, policy: retryIdempotent,
		query: url.Values{filter: {searchValue}}}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	type item struct {
		FlowID   flexInt64 `json:"flowId"`
		FlowName string    `json:"flowName"`
		Cycle    string    `json:"cycle"`
		Editable bool      `json:"editable"`
	}
	return decodeItems(call.operation(), data, func(it item) FlowSummary {
		return FlowSummary{FlowID: int64(it.FlowID), FlowName: it.FlowName, Cycle: it.Cycle, Editable: it.Editable}
	})
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
		type item struct {
			FlowID   flexInt64 `json:"flowId"`
			FlowName string    `json:"flowName"`
		}
		return decodeItems(call.operation(), data, func(it item) FlowRef { return FlowRef{FlowID: int64(it.FlowID), FlowName: it.FlowName} })
	}
	return collect(pageItems(c.firstPage, pageSize, fetch, func(f FlowRef) string { return strconv.FormatInt(f.FlowID, 10) }), s.MaxResults)
}

type flowSearchBody struct {
	Expression string     `json:"expression,omitempty"`
	Pagination pagination `json:"pagination"`
}
