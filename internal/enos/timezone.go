package enos

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// serverLocation is the zone of the service's zone-less times: the
// configured one, or the server's, fetched once and then cached.
func (c *Client) serverLocation(ctx context.Context) (*time.Location, error) {
	return c.zone.get(ctx, c.fetchBound, c.GetTimeZone)
}

// GetTimeZone asks the server for its zone ("GMT+8" becomes a fixed zone).
// The answer also becomes the Client's server zone unless one is configured
// or already known.
func (c *Client) GetTimeZone(ctx context.Context) (*time.Location, error) {
	call := apiCall{resource: "time", action: "getTimeZone", method: http.MethodGet, policy: retryIdempotent, anonymous: true}
	data, err := c.do(ctx, call)
	if err != nil {
		return nil, err
	}
	var out struct {
		TimeZone string `json:"timezone"`
	}
	if err := decodeData(call.operation(), data, &out); err != nil {
		return nil, err
	}
	loc, err := parseZone(out.TimeZone)
	if err != nil {
		return nil, &APIError{Operation: call.operation(), HTTPStatus: http.StatusOK, Message: "malformed response: " + err.Error()}
	}
	c.zone.offer(loc)
	return loc, nil
}

// GetCurrentTime returns the server's clock.
func (c *Client) GetCurrentTime(ctx context.Context) (time.Time, error) {
	call := apiCall{resource: "time", action: "getCurrentTime", method: http.MethodGet, policy: retryIdempotent, anonymous: true}
	data, err := c.do(ctx, call)
	if err != nil {
		return time.Time{}, err
	}
	var ms flexInt64
	if err := decodeData(call.operation(), data, &ms); err != nil {
		return time.Time{}, err
	}
	if ms <= 0 {
		return time.Time{}, &APIError{Operation: call.operation(), HTTPStatus: http.StatusOK, Message: "malformed response: no time in data"}
	}
	return time.UnixMilli(int64(ms)), nil
}

var gmtOffset = regexp.MustCompile(`^(?i:GMT|UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$`)

// parseZone reads "GMT+8", "GMT-05:30", "UTC+0800", "GMT", "UTC" or an IANA
// zone name such as "Asia/Shanghai".
func parseZone(name string) (*time.Location, error) {
	s := strings.TrimSpace(name)
	switch strings.ToUpper(s) {
	case "GMT", "UTC", "Z":
		return time.FixedZone(strings.ToUpper(s), 0), nil
	}
	if m := gmtOffset.FindStringSubmatch(s); m != nil {
		hours, _ := strconv.Atoi(m[2])
		minutes := 0
		if m[3] != "" {
			minutes, _ = strconv.Atoi(m[3])
		}
		if hours > 14 || minutes > 59 {
			return nil, fmt.Errorf("time zone %q is out of range", name)
		}
		offset := hours*3600 + minutes*60
		label := "GMT" + m[1] + strconv.Itoa(hours)
		if minutes != 0 {
			label += fmt.Sprintf(":%02d", minutes)
		}
		if m[1] == "-" {
			offset = -offset
		}
		return time.FixedZone(label, offset), nil
	}
	if s != "" && !strings.EqualFold(s, "local") {
		if loc, err := time.LoadLocation(s); err == nil {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("time zone %q is not like GMT+8 or an IANA zone name", name)
}
