package enos

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodeEnvelope feeds arbitrary bodies and HTTP statuses through the
// envelope decoder and the instance decoder: neither may panic, and a
// success must come with a 2xx status and a result code of 0.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(200, []byte(sampleInstance))
	f.Add(200, []byte(`{"code":0,"msg":"OK","data":{"flowInsts":[],"count":0}}`))
	f.Add(502, []byte(`<html><title>502 Bad Gateway</title></html>`))
	f.Add(200, []byte(`{"status":0,"data":{"instanceId":"1-1","flowId":"x"`))
	f.Add(200, []byte(`{"status":"62102","msg":"illegal sorted by field","requestId":"r"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		data, _, err := decodeEnvelope("fuzz/op", status, body)
		if err != nil {
			if e, ok := asAPIError(err); !ok || e.Error() == "" {
				t.Fatalf("error %v is not a described *APIError", err)
			}
			return
		}
		if !is2xx(status) {
			t.Fatalf("HTTP %d decoded as success", status)
		}
		var w wireInstance
		if json.Unmarshal(data, &w) == nil {
			_, _ = w.decode(time.UTC)
		}
	})
}
