package provider

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// NewProtocol6Server serves p through the framework, releasing each
// per-resource request's context when the request ends (see
// releasingServer).
func NewProtocol6Server(p provider.Provider) func() tfprotov6.ProviderServer {
	framework := providerserver.NewProtocol6(p)
	return func() tfprotov6.ProviderServer { return releasingServer{framework()} }
}

// releasingServer works around terraform-plugin-framework (v1.19) keeping the
// cancel function of every request's context until StopProvider, which
// Terraform does not call in a normal run. Each of those contexts holds the
// request's loggers and log fields, several KiB, so a plan of 1000 triggers
// kept about 60 MiB alive. The framework sees a context that drops its parent
// once the request has ended; only a few small objects then stay behind.
//
// Only the calls Terraform makes for each resource or data source instance
// are wrapped; the others happen a few times per process.
type releasingServer struct {
	tfprotov6.ProviderServer
}

func (s releasingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ValidateResourceConfig)
}

func (s releasingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.UpgradeResourceState)
}

func (s releasingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ReadResource)
}

func (s releasingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.PlanResourceChange)
}

func (s releasingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ApplyResourceChange)
}

func (s releasingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ImportResourceState)
}

func (s releasingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ValidateDataResourceConfig)
}

func (s releasingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ReadDataSource)
}

// ValidateListResourceConfig and ListResource pass through: terraform-plugin-go
// serves list resources only from a server that has them
// (ProviderServerWithListResource), and Terraform reads ListResource's
// result stream after the call has returned, so its context must live on.
func (s releasingServer) ValidateListResourceConfig(ctx context.Context, req *tfprotov6.ValidateListResourceConfigRequest) (*tfprotov6.ValidateListResourceConfigResponse, error) {
	lists, err := s.listResourceServer()
	if err != nil {
		return nil, err
	}
	return lists.ValidateListResourceConfig(ctx, req)
}

func (s releasingServer) ListResource(ctx context.Context, req *tfprotov6.ListResourceRequest) (*tfprotov6.ListResourceServerStream, error) {
	lists, err := s.listResourceServer()
	if err != nil {
		return nil, err
	}
	return lists.ListResource(ctx, req)
}

//nolint:staticcheck // the deprecated interface is how terraform-plugin-go v0.31 finds list resources
func (s releasingServer) listResourceServer() (tfprotov6.ProviderServerWithListResource, error) {
	lists, ok := s.ProviderServer.(tfprotov6.ProviderServerWithListResource)
	if !ok {
		return nil, fmt.Errorf("the framework server %T serves no list resources", s.ProviderServer)
	}
	return lists, nil
}

// withReleasedContext calls rpc with a context that lets go of ctx when
// rpc returns.
func withReleasedContext[Req, Resp any](ctx context.Context, req Req, rpc func(context.Context, Req) (Resp, error)) (Resp, error) {
	released := newReleasableContext(ctx)
	defer released.release()
	return rpc(released, req)
}

// endedContext is what a released context behaves as: canceled, no values.
var endedContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// releasableContext behaves as its parent until release, and as endedContext
// after it.
type releasableContext struct {
	parent atomic.Pointer[context.Context]
}

func newReleasableContext(parent context.Context) *releasableContext {
	c := &releasableContext{}
	c.parent.Store(&parent)
	return c
}

func (c *releasableContext) release() { c.parent.Store(&endedContext) }

func (c *releasableContext) current() context.Context { return *c.parent.Load() }

func (c *releasableContext) Deadline() (time.Time, bool) { return c.current().Deadline() }
func (c *releasableContext) Done() <-chan struct{}       { return c.current().Done() }
func (c *releasableContext) Err() error                  { return c.current().Err() }
func (c *releasableContext) Value(key any) any           { return c.current().Value(key) }

// The action calls pass through: terraform-plugin-go serves actions only
// from a server that has them (ProviderServerWithActions), and Terraform
// reads InvokeAction's event stream after the call has returned, so its
// context must live on.

func (s releasingServer) ValidateActionConfig(ctx context.Context, req *tfprotov6.ValidateActionConfigRequest) (*tfprotov6.ValidateActionConfigResponse, error) {
	actions, err := s.actionServer()
	if err != nil {
		return nil, err
	}
	return actions.ValidateActionConfig(ctx, req)
}

func (s releasingServer) PlanAction(ctx context.Context, req *tfprotov6.PlanActionRequest) (*tfprotov6.PlanActionResponse, error) {
	actions, err := s.actionServer()
	if err != nil {
		return nil, err
	}
	return actions.PlanAction(ctx, req)
}

func (s releasingServer) InvokeAction(ctx context.Context, req *tfprotov6.InvokeActionRequest) (*tfprotov6.InvokeActionServerStream, error) {
	actions, err := s.actionServer()
	if err != nil {
		return nil, err
	}
	return actions.InvokeAction(ctx, req)
}

//nolint:staticcheck // the deprecated interface is how terraform-plugin-go v0.31 finds actions
func (s releasingServer) actionServer() (tfprotov6.ProviderServerWithActions, error) {
	actions, ok := s.ProviderServer.(tfprotov6.ProviderServerWithActions)
	if !ok {
		return nil, fmt.Errorf("the framework server %T serves no actions", s.ProviderServer)
	}
	return actions, nil
}
