package provider

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
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

// releasingServer embeds tfprotov6.ProviderServer, so an RPC of an optional
// interface (as actions and list resources were) is hidden unless the
// wrapper forwards it by hand. This fails when a framework upgrade adds one
// the wrapper does not forward. State stores are left out on purpose: the
// provider offers none.
func TestReleasingServerForwardsEveryRPCOfTheFrameworkServer(t *testing.T) {
	framework := reflect.TypeOf(providerserver.NewProtocol6(New("test")())())
	wrapper := reflect.TypeOf(releasingServer{})
	unserved := reflect.TypeFor[tfprotov6.StateStoreServer]()
	if framework.NumMethod() == 0 {
		t.Fatalf("the framework server %v has no methods", framework)
	}
	for i := range framework.NumMethod() {
		rpc := framework.Method(i)
		if _, ok := unserved.MethodByName(rpc.Name); ok {
			continue
		}
		forwarded, ok := wrapper.MethodByName(rpc.Name)
		if !ok {
			t.Errorf("releasingServer does not forward %s of %v: add a method that passes it through", rpc.Name, framework)
			continue
		}
		// Drop the receiver: the rest of the signature must be the same.
		if got, want := signature(forwarded.Type), signature(rpc.Type); got != want {
			t.Errorf("releasingServer.%s is %s, the framework's is %s", rpc.Name, got, want)
		}
	}
}

func signature(method reflect.Type) string {
	var in, out []string
	for i := 1; i < method.NumIn(); i++ {
		in = append(in, method.In(i).String())
	}
	for i := range method.NumOut() {
		out = append(out, method.Out(i).String())
	}
	return fmt.Sprintf("func(%s) (%s)", strings.Join(in, ", "), strings.Join(out, ", "))
}
