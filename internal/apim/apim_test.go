package apim

import (
	"encoding/hex"
	"net/url"
	"testing"
)

// Vector A is the vendor's published example; B, C, D and E come from the
// project's reference of the service (SERVICE.md §2.3).
func TestSignatureVectors(t *testing.T) {
	bodyA, err := hex.DecodeString("7b0a202022636f756e74223a2032302c0a20202270616765223a20312c0a20202264657363223a2022e68f8fe8bfb0220a7d")
	if err != nil {
		t.Fatal(err)
	}
	if len(bodyA) != 50 {
		t.Fatalf("vector A body is %d bytes, want 50", len(bodyA))
	}
	bodyB := []byte("{\n  \"count\": 20,\n  \"page\": 1,\n  \"desc\": \"description\"\n}")
	abQuery := url.Values{"k3": {"v3"}, "k1": {"v1"}, "k2": {"v2"}}
	user := url.Values{"userId": {"u15426865866571"}, "orgId": {"o15000000000001"}}
	withUser := func(extra url.Values) url.Values {
		q := url.Values{}
		for k, v := range user {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		return q
	}
	queryE, err := url.ParseQuery("action=getMyFlow&searchValue=daily%20load&userId=u15426865866571&orgId=o15000000000001")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		token     string
		query     url.Values
		body      []byte
		timestamp string
		secret    string
		want      string
	}{
		{"A published", "xxxxaaaxxxx", abQuery, bodyA, "1572574909697", "xxxappSecretxxx", "59828328f6c1f9771015dc74e4929ae30f518a35a3d2353972c2ea46556fc981"},
		{"B english body", "xxxxaaaxxxx", abQuery, bodyB, "1572574909697", "xxxappSecretxxx", "ad6dc6fc97f4290f3724e94eab38168d8613c41c3a4569b4b8b0efbce96a816c"},
		{"D updateAndTrigger", "demo-token-0001", withUser(url.Values{"action": {"updateAndTrigger"}}),
			[]byte(`{"flowId":3377,"triggerTime":1700000000000,"parameters":[{"key":"REPLACE","value":"ddee"}]}`),
			"1700000000000", "demo-secret", "7b246aace37f6555e146666fa34c0735cbd8c070992755cf471400b51062de31"},
		{"E decoded space", "demo-token-0001", queryE, nil, "1700000000000", "demo-secret", "2f8d5f16e1eabf8101b29d788d34ae45d0e6ce6a488d6bf1e59d99eeeabe957b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Signature(tt.token, tt.query, tt.body, tt.timestamp, tt.secret); got != tt.want {
				t.Errorf("Signature() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	q := url.Values{"k3": {"v3"}, "k1": {"v1"}, "k2": {"v2"}, "B": {"upper sorts first"}, "rep": {"first", "second"}}
	want := "Bupper sorts firstk1v1k2v2k3v3repfirst"
	if got := CanonicalQuery(q); got != want {
		t.Errorf("CanonicalQuery() = %q, want %q", got, want)
	}
}

func TestEncryptionVectorC(t *testing.T) {
	const want = "7ecca6aa8a615827b0022fc25c32b13a919538ede43be3c8225224918ad1fe5f"
	if got := Encryption("demo-app-key", 1700000000000, "demo-secret"); got != want {
		t.Errorf("Encryption() = %s, want %s", got, want)
	}
}
