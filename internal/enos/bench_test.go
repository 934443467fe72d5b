package enos

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// BenchmarkSignedRequest measures building and signing one trigger request.
func BenchmarkSignedRequest(b *testing.B) {
	c, err := New(Config{Endpoint: "https://apim.example.com", AccessKey: "k", SecretKey: "s", OrgID: emulator.DefaultOrgID, UserID: emulator.DefaultUserID})
	if err != nil {
		b.Fatal(err)
	}
	query := url.Values{"action": {"updateAndTrigger"}, "userId": {emulator.DefaultUserID}, "orgId": {emulator.DefaultOrgID}}
	params := map[string]string{"bizdate": "20240101", "region": "cn", "mode": "full"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		body, _ := json.Marshal(triggerBody{FlowID: 1001, TriggerTime: 1700000000000, Parameters: parametersFromMap(params)})
		x := exchange{
			op: "flows/updateAndTrigger", method: http.MethodPost, signed: true, query: query,
			url:  c.baseURL + c.prefix + "/flows?" + encodeQuery(query),
			body: func() []byte { return body },
		}
		if _, err := c.newRequest(ctx, x, "access-token"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInstance measures decoding one flowInstances/get answer.
func BenchmarkDecodeInstance(b *testing.B) {
	body := []byte(sampleInstance)
	loc := time.FixedZone("GMT+8", 8*3600)
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := decodeEnvelope("flowInstances/get", 200, body)
		if err != nil {
			b.Fatal(err)
		}
		var w wireInstance
		if err := json.Unmarshal(data, &w); err != nil {
			b.Fatal(err)
		}
		if _, err := w.decode(loc); err != nil {
			b.Fatal(err)
		}
	}
}
