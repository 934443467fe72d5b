package emulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind is a kind of injected failure. The values are also the names
// that ParseFault and the admin route accept.
type FaultKind string

// Fault kinds.
const (
	FaultLatency       FaultKind = "latency"        // wait Delay (default 1s) before answering
	FaultHTTP502       FaultKind = "http-502"       // an HTML 502 page; the service does not act
	FaultHTTP503       FaultKind = "http-503"       // an HTML 503 page, with Retry-After when RetryAfter is set
	FaultThrottle      FaultKind = "throttle"       // 429 with Retry-After (RetryAfter, default 1s)
	FaultInternal      FaultKind = "internal"       // code 62109 (1005 on token calls); the service does not act
	FaultDropBeforeAct FaultKind = "drop-before"    // close the connection without acting or answering
	FaultDropAfterAct  FaultKind = "drop-after"     // act (e.g. start the run), then close without answering
	FaultExpireToken   FaultKind = "expire-token"   // the presented token expires now; answer 1203
	FaultSlowBody      FaultKind = "slow-body"      // act, then trickle the body over Delay (default 1s)
	FaultTruncatedBody FaultKind = "truncated-body" // act, then send half the body and close
	FaultClockSkew     FaultKind = "clock-skew"     // shift now by Skew for the freshness check
)

var faultKinds = []FaultKind{FaultLatency, FaultHTTP502, FaultHTTP503, FaultThrottle, FaultInternal,
	FaultDropBeforeAct, FaultDropAfterAct, FaultExpireToken, FaultSlowBody, FaultTruncatedBody, FaultClockSkew}

// Fault is a failure injected into matching requests.
type Fault struct {
	Operation  string        // "" any; else e.g. "flows/updateAndTrigger", "token/get"
	Kind       FaultKind     //
	Count      int           // affect only the first N matching requests; 0 = every one
	Rate       float64       // 0..1: the share of matching requests affected; 0 = all
	Delay      time.Duration // latency and slow-body
	RetryAfter time.Duration // throttle and http-503
	Skew       time.Duration // clock-skew: added to the emulator's now
}

type activeFault struct {
	Fault
	used int
}

// InjectFault adds a fault; call remove to take it out again. Faults apply
// in injection order: latency and clock-skew add up, and of the others the
// first that matches a request decides it. A kind not listed above has no
// effect; expire-token never applies to the token service.
func (e *Emulator) InjectFault(f Fault) (remove func()) {
	af := &activeFault{Fault: f}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, af)
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.faults = slices.DeleteFunc(e.faults, func(x *activeFault) bool { return x == af })
	}
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// faultPlan is what the faults do to one request.
type faultPlan struct {
	delay   time.Duration
	skew    time.Duration
	primary *Fault
	applied []FaultKind
}

// kind names the fault recorded for the request: the primary one, else the first modifier.
func (p faultPlan) kind() FaultKind {
	if p.primary != nil {
		return p.primary.Kind
	}
	if len(p.applied) > 0 {
		return p.applied[0]
	}
	return ""
}

// takeFaults picks the faults that hit this request and uses up their counts.
func (e *Emulator) takeFaults(c *call) faultPlan {
	e.mu.Lock()
	defer e.mu.Unlock()
	var p faultPlan
	for _, af := range e.faults {
		switch {
		case af.Operation != "" && af.Operation != c.operation,
			af.Kind == FaultExpireToken && c.token,
			!slices.Contains(faultKinds, af.Kind),
			af.Count > 0 && af.used >= af.Count:
			continue
		}
		modifier := af.Kind == FaultLatency || af.Kind == FaultClockSkew
		if !modifier && p.primary != nil {
			continue
		}
		if af.Rate > 0 && rand.Float64() >= af.Rate {
			continue
		}
		af.used++
		switch af.Kind {
		case FaultLatency:
			p.delay += orDefault(af.Delay, time.Second)
			p.applied = append(p.applied, af.Kind)
		case FaultClockSkew:
			p.skew += af.Skew
			p.applied = append(p.applied, af.Kind)
		default:
			f := af.Fault
			p.primary = &f
		}
	}
	return p
}

// ParseFault reads a fault from its flag form, comma-separated key=value
// pairs: kind (required), op, count, rate, delay, retry-after, skew; e.g.
// "op=flows/updateAndTrigger,kind=drop-after,count=1".
func ParseFault(spec string) (Fault, error) {
	var f Fault
	for pair := range strings.SplitSeq(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return Fault{}, fmt.Errorf("fault %q: expected key=value, got %q", spec, pair)
		}
		var err error
		switch key {
		case "op", "operation":
			f.Operation = value
		case "kind":
			f.Kind = FaultKind(value)
			if !slices.Contains(faultKinds, f.Kind) {
				err = fmt.Errorf("expected one of %s", joinKinds())
			}
		case "count":
			f.Count, err = strconv.Atoi(value)
			if err == nil && f.Count < 0 {
				err = fmt.Errorf("expected a count of 0 or more")
			}
		case "rate":
			f.Rate, err = strconv.ParseFloat(value, 64)
			if err == nil && (f.Rate < 0 || f.Rate > 1) {
				err = fmt.Errorf("expected a rate between 0 and 1")
			}
		case "delay":
			f.Delay, err = time.ParseDuration(value)
		case "retry-after":
			f.RetryAfter, err = time.ParseDuration(value)
		case "skew":
			f.Skew, err = time.ParseDuration(value)
		default:
			err = fmt.Errorf("unknown key; expected kind, op, count, rate, delay, retry-after or skew")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %s=%s: %w", spec, key, value, err)
		}
	}
	if f.Kind == "" {
		return Fault{}, fmt.Errorf("fault %q: expected kind=<one of %s>", spec, joinKinds())
	}
	return f, nil
}

func joinKinds() string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
