package enos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// flexInt64 accepts a JSON number or a numeric string ("3318"); "" and
// null decode as 0 (SERVICE.md §1.2: flowId is sometimes a string).
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*f = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*f = flexInt64(n)
	return nil
}

// flexInt is a flexInt64 that must fit 32 bits: a status, a code or a
// flag. A value beyond that is a decode error, never a number wrapped into
// another one on a 32-bit build (4294967297 read as 1, SUCCESS).
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n flexInt64
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return fmt.Errorf("%d is out of range", n)
	}
	*f = flexInt(n)
	return nil
}

// flexString accepts a JSON string or number (graph taskId is either).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	v, err := stringOrNumber(b)
	*f = flexString(v)
	return err
}

// stringOrNumber reads a JSON string, or a number as its text; null is "".
func stringOrNumber(b []byte) (string, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	}
	if string(b) == "null" {
		return "", nil
	}
	var n json.Number
	err := json.Unmarshal(b, &n)
	return string(n), err
}

// embeddedJSON is a JSON value sent either as is or as a string holding
// it (parameters and graph, SERVICE.md §1.2). An empty string or null is empty.
type embeddedJSON []byte

func (e *embeddedJSON) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = embeddedJSON(strings.TrimSpace(s))
		return nil
	}
	if string(b) == "null" {
		*e = nil
		return nil
	}
	*e = append((*e)[:0], b...)
	return nil
}

func (e embeddedJSON) decode(field string, v any) error {
	if len(e) == 0 {
		return nil
	}
	if err := json.Unmarshal(e, v); err != nil {
		return fmt.Errorf("decoding %s: %w", field, err)
	}
	return nil
}

// parameters decodes [{key,value}] or, leniently, a {key: value} object.
func (e embeddedJSON) parameters() ([]Parameter, error) {
	if len(e) == 0 {
		return nil, nil
	}
	if e[0] == '{' {
		var m map[string]string
		if err := e.decode("parameters", &m); err != nil {
			return nil, err
		}
		return parametersFromMap(m), nil
	}
	var params []Parameter
	err := e.decode("parameters", &params)
	return params, err
}

// parametersFromMap returns the map as {key, value} pairs sorted by key;
// never nil, so that an empty map is sent as [].
func parametersFromMap(m map[string]string) []Parameter {
	params := make([]Parameter, 0, len(m))
	for k, v := range m {
		params = append(params, Parameter{Key: k, Value: v})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].Key < params[j].Key })
	return params
}

// wireTime is a zone-less server time "yyyy-MM-dd HH:mm:ss[.S]" (or, if a
// server sends one, epoch milliseconds). "", null and absent are unset.
type wireTime string

func (w *wireTime) UnmarshalJSON(b []byte) error {
	v, err := stringOrNumber(b)
	*w = wireTime(strings.TrimSpace(v))
	return err
}

// serverTimeLayout parses with or without a fraction: Go accepts a
// fractional second after the seconds field when parsing.
const serverTimeLayout = "2006-01-02 15:04:05"

func (w wireTime) parse(field string, loc *time.Location) (time.Time, error) {
	s := string(w)
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).In(loc), nil
	}
	if t, err := time.ParseInLocation(serverTimeLayout, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(loc), nil
	}
	return time.Time{}, fmt.Errorf("decoding %s: %q is not a time like yyyy-MM-dd HH:mm:ss", field, s)
}

// splitUsers turns ";alice;bob;" into [alice bob].
func splitUsers(s string) []string {
	var users []string
	for _, u := range strings.Split(s, ";") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	return users
}
