package enos

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ValidateEndpoint checks a gateway endpoint: an absolute https URL of a
// host, or http only to a loopback host (the local emulator), so that the
// token request and signed calls never cross a network in the clear.
func ValidateEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("endpoint %q is not an absolute URL such as https://apim-ppe1.envisioniot.com", endpoint)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("endpoint %q must be scheme and host (and port) only, without path, query, fragment or user info", endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("endpoint %q uses plain http to a non-loopback host; use https (plain http is allowed only for 127.0.0.0/8, ::1 or localhost)", endpoint)
	default:
		return fmt.Errorf("endpoint %q must start with https:// (or http:// for a loopback host)", endpoint)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
