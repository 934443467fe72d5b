package enos

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// API versions the client speaks.
const (
	APIVersion20 = "v2.0"
	APIVersion21 = "v2.1"
)

const (
	defaultRequestTimeout = 30 * time.Second
	defaultUserAgent      = "enos-dataflow-go-client"
)

// Config configures a Client. AccessKey, SecretKey, OrgID and UserID are
// required; everything else has a default.
type Config struct {
	Endpoint          string // scheme://host[:port]; http only for loopback hosts
	APIVersion        string // "v2.0" (default) or "v2.1"
	AccessKey         string
	SecretKey         string
	OrgID             string
	UserID            string
	RequestTimeout    time.Duration // per attempt; 0 = 30s
	MaxRetries        int           // retries for calls safe to repeat; 0 = none
	RequestsPerSecond float64       // client-side rate limit; 0 = unlimited
	UserAgent         string
	CACertPEM         []byte           // extra CA bundle (added to the system pool)
	HTTPClient        *http.Client     // optional; tests
	Now               func() time.Time // optional clock; default time.Now
	Logger            Logger           // optional; never receives secrets
	// ServerTimeZone, e.g. "GMT+8", is the zone of the service's zone-less
	// time strings. When empty it is fetched once via getTimeZone when first
	// needed.
	ServerTimeZone string
}

// Logger receives one debug record per HTTP attempt. Fields never hold the
// secret key, tokens, signatures or the token request's encryption.
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
}

// validate checks cfg and returns the parsed endpoint.
func (cfg Config) validate() (*url.URL, error) {
	var problems []error
	required := []struct{ name, value string }{
		{"endpoint", cfg.Endpoint}, {"access key", cfg.AccessKey}, {"secret key", cfg.SecretKey},
		{"org id", cfg.OrgID}, {"user id", cfg.UserID},
	}
	for _, r := range required {
		if strings.TrimSpace(r.value) == "" {
			problems = append(problems, fmt.Errorf("%s is required", r.name))
		}
	}
	if cfg.APIVersion != "" && cfg.APIVersion != APIVersion20 && cfg.APIVersion != APIVersion21 {
		problems = append(problems, fmt.Errorf("api version %q is not supported: use %q or %q", cfg.APIVersion, APIVersion20, APIVersion21))
	}
	if cfg.RequestTimeout < 0 {
		problems = append(problems, errors.New("request timeout must not be negative"))
	}
	if cfg.MaxRetries < 0 {
		problems = append(problems, errors.New("max retries must not be negative"))
	}
	if cfg.RequestsPerSecond < 0 {
		problems = append(problems, errors.New("requests per second must not be negative"))
	}
	if cfg.ServerTimeZone != "" {
		if _, err := parseZone(cfg.ServerTimeZone); err != nil {
			problems = append(problems, err)
		}
	}
	var endpoint *url.URL
	if cfg.Endpoint != "" {
		u, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			problems = append(problems, err)
		}
		endpoint = u
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("invalid EnOS client configuration: %w", err)
	}
	return endpoint, nil
}

// parseEndpoint validates raw (see ValidateEndpoint) and returns its
// scheme and host.
func parseEndpoint(raw string) (*url.URL, error) {
	if err := ValidateEndpoint(raw); err != nil {
		return nil, err
	}
	u, _ := url.Parse(raw) // parsed by ValidateEndpoint
	// One spelling of the host (lower case, no trailing dot): "LOCALHOST."
	// is the loopback host ValidateEndpoint accepts, and only "localhost"
	// is what proxy settings and certificates match.
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if port := u.Port(); port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return &url.URL{Scheme: u.Scheme, Host: host}, nil
}

// proxyFor is the transport's proxy: the environment's for https, never
// one for plain http, which goes only to a loopback host and must not
// carry the token request or signed calls through a proxy in the clear.
func proxyFor(req *http.Request) (*url.URL, error) {
	if req.URL.Scheme == "http" {
		return nil, nil
	}
	return http.ProxyFromEnvironment(req)
}

// newHTTPClient builds the default client: system roots plus the extra CA
// bundle, verification always on, and no redirects (a redirect would carry
// signed headers elsewhere).
func newHTTPClient(caPEM []byte) (*http.Client, error) {
	pool, err := rootsWith(caPEM)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		Proxy:             proxyFor,
		DialContext:       (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
		// Every request goes to the one gateway host; the default of 2 idle
		// connections would close and re-dial (with a TLS handshake) all but
		// two of Terraform's parallel requests each round.
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// rootsWith is the system roots plus caPEM's certificates, or nil (the
// system roots, which crypto/tls then loads at the first handshake) when
// there is no bundle: loading them costs tens of milliseconds of CPU, which
// a provider process that makes no request (a plan of finished runs) saves.
func rootsWith(caPEM []byte) (*x509.CertPool, error) {
	if len(caPEM) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("invalid EnOS client configuration: the CA bundle holds no PEM certificate")
	}
	return pool, nil
}

// checkTLSVerification refuses a caller-supplied client that skips
// certificate verification.
func checkTLSVerification(hc *http.Client) error {
	if t, ok := hc.Transport.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
		return errors.New("invalid EnOS client configuration: TLS certificate verification cannot be disabled")
	}
	return nil
}
