package apim

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzCanonicalQuery parses arbitrary raw queries and checks what signing
// relies on: the canonical form is the names in ascending byte order, each
// followed by its first value; it survives an encode and decode round trip
// (what the gateway does with the query the client sends); and the
// signature over it is deterministic lowercase hex.
func FuzzCanonicalQuery(f *testing.F) {
	f.Add("k3=v3&k1=v1&k2=v2")
	f.Add("action=getMyFlow&searchValue=daily%20load&userId=u15426865866571&orgId=o15000000000001")
	f.Add("a=1&a=2&b=&c")
	f.Add("%E6%8F%8F=%E8%BF%B0&Z=z&z=Z")
	f.Add("x=a+b%2Bc&y=%00%ff")
	f.Fuzz(func(t *testing.T, raw string) {
		query, _ := url.ParseQuery(raw) // malformed pairs are dropped, as by the gateway
		canonical := CanonicalQuery(query)

		var want strings.Builder
		for _, name := range slices.Sorted(maps.Keys(query)) {
			want.WriteString(name)
			if values := query[name]; len(values) > 0 {
				want.WriteString(values[0])
			}
		}
		if canonical != want.String() {
			t.Fatalf("CanonicalQuery(%q) = %q, want names sorted with their first values: %q", raw, canonical, want.String())
		}

		reparsed, err := url.ParseQuery(query.Encode())
		if err != nil {
			t.Fatalf("re-parsing the encoded query %q: %v", query.Encode(), err)
		}
		if got := CanonicalQuery(reparsed); got != canonical {
			t.Fatalf("canonical form changed by an encode and decode round trip: %q, then %q", canonical, got)
		}

		sig := Signature("token", query, []byte(raw), "1700000000000", "secret")
		if !lowerHex64.MatchString(sig) {
			t.Fatalf("signature %q is not 64 lowercase hex digits", sig)
		}
		if again := Signature("token", reparsed, []byte(raw), "1700000000000", "secret"); again != sig {
			t.Fatalf("signature not deterministic over the same query: %s, then %s", sig, again)
		}
	})
}
