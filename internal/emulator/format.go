package emulator

import (
	"encoding/json"
	"strings"
	"time"
)

// Zone-less time formats of the service (SERVICE.md §1.2), all in the server zone.
const (
	layoutTime  = "2006-01-02 15:04:05"
	layoutStamp = "2006-01-02 15:04:05.0"
	layoutDate  = "2006-01-02"
)

// fmtTime formats t, or returns nil (JSON null) for an unset time.
func (e *Emulator) fmtTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(e.zone).Format(layoutTime)
	return &s
}

func (e *Emulator) fmtStamp(t time.Time) string { return t.In(e.zone).Format(layoutStamp) }

func (e *Emulator) fmtDate(t time.Time) string { return t.In(e.zone).Format(layoutDate) }

// userList renders usernames the way owner and visitor fields hold them: ";alice;bob;".
func userList(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ";" + strings.Join(names, ";") + ";"
}

// jsonString renders v as a string holding JSON, as parameters and graph are sent.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // only emulator-built values reach here
		return ""
	}
	return string(b)
}

func paramsJSON(ps []Parameter) string {
	if ps == nil {
		ps = []Parameter{}
	}
	return jsonString(ps)
}

// containsFold reports whether substr is within s, ignoring case.
func containsFold(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
