package provider

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

type requestValueKey struct{}

// The framework keeps every request's context until StopProvider; through
// NewProtocol6Server, what a request put in its context can still be freed
// once the request has ended.
func TestProtocolServerFreesRequestContexts(t *testing.T) {
	server := NewProtocol6Server(New("test")())()
	freed := make(chan struct{})
	func() {
		value := new([64]byte)
		runtime.AddCleanup(value, func(ch chan struct{}) { close(ch) }, freed)
		ctx := context.WithValue(t.Context(), requestValueKey{}, value)
		if _, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "dataflow_flow_trigger"}); err != nil {
			t.Fatal(err)
		}
	}()
	// Cleanups run some GC cycles later, on their own goroutine: keep
	// collecting until it has run. The bound only ends a failing test.
	for range 1000 {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the request's context is still reachable after the request ended")
}

// capturingServer records the context of the one call it serves.
type capturingServer struct {
	tfprotov6.ProviderServer
	ctx context.Context
	key any
	got any // ctx.Value(key) during the call
}

func (s *capturingServer) ReadResource(ctx context.Context, _ *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	s.ctx, s.got = ctx, ctx.Value(s.key)
	return &tfprotov6.ReadResourceResponse{}, nil
}

// During the call the framework sees the request's context; afterwards a
// context that has ended and carries nothing.
func TestReleasingServerPassesContextUntilTheCallEnds(t *testing.T) {
	downstream := &capturingServer{key: requestValueKey{}}
	ctx := context.WithValue(t.Context(), requestValueKey{}, "request value")
	if _, err := (releasingServer{downstream}).ReadResource(ctx, &tfprotov6.ReadResourceRequest{}); err != nil {
		t.Fatal(err)
	}
	if downstream.got != "request value" {
		t.Errorf("value during the call = %v, want the request's", downstream.got)
	}
	if v := downstream.ctx.Value(requestValueKey{}); v != nil {
		t.Errorf("value after the call = %v, want none", v)
	}
	if downstream.ctx.Err() == nil {
		t.Error("context after the call has not ended")
	}
	if ctx.Err() != nil {
		t.Error("the request's own context was canceled")
	}
}
