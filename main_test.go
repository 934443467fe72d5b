package main

import (
	"os"
	"testing"
)

func TestSilenceDiscardedLogs(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string // every logger's level afterwards
	}{
		"terraform discards provider logs": {want: "OFF"},
		"TF_LOG set":                       {env: map[string]string{"TF_LOG": "TRACE"}, want: ""},
		"TF_LOG_PROVIDER set":              {env: map[string]string{"TF_LOG_PROVIDER": "DEBUG"}, want: ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for _, v := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, providerLogLevelVars...) {
				t.Setenv(v, tt.env[v])
			}
			silenceDiscardedLogs()
			for _, v := range providerLogLevelVars {
				if got := os.Getenv(v); got != tt.want {
					t.Errorf("%s = %q, want %q", v, got, tt.want)
				}
			}
		})
	}
}
