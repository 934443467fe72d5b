package acctest

import (
	"strings"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

func TestErrorTextMatchesFragmentsInOrderAcrossWrappedLines(t *testing.T) {
	re := ErrorText("Flow run ended with status FAIL", "next apply (a.b)")
	if !re.MatchString("Error: Flow run ended\n  with status\tFAIL; the next\napply (a.b) replaces it") {
		t.Error("the fragments wrapped across lines do not match")
	}
	if re.MatchString("next apply (a.b): Flow run ended with status FAIL") {
		t.Error("the fragments match out of order")
	}
	if re.MatchString("Flow run ended with status FAIL, next apply (aXb)") {
		t.Error("a fragment's punctuation matches as a regular expression")
	}
}

func TestProviderBlockAddsMaxRetriesUnlessSet(t *testing.T) {
	srv := &emulator.Server{URL: "http://127.0.0.1:1"}
	if got := ProviderBlock(srv, `request_timeout = "3s"`); !strings.Contains(got, "max_retries = 2") || !strings.Contains(got, `request_timeout = "3s"`) {
		t.Errorf("without max_retries, want the default 2 and the settings:\n%s", got)
	}
	if got := ProviderBlock(srv, "max_retries = 0"); strings.Count(got, "max_retries") != 1 || !strings.Contains(got, "max_retries = 0") {
		t.Errorf("with max_retries set, want it alone:\n%s", got)
	}
}
