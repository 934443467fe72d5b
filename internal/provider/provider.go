// Package provider is the Terraform glue of the Dataflow provider: schemas,
// plan logic and state mapping. All talk with the service goes through
// internal/enos.
package provider

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// Defaults of the provider block.
const (
	defaultAPIVersion     = "v2.0"
	defaultRequestTimeout = 30 * time.Second
	// A request of the service takes milliseconds to seconds: below a
	// second every attempt would time out, and above ten minutes a hung
	// connection would hold an apply for long.
	minRequestTimeout = time.Second
	maxRequestTimeout = 10 * time.Minute
	defaultMaxRetries = 4
)

var (
	_ provider.Provider                  = (*dataflowProvider)(nil)
	_ provider.ProviderWithActions       = (*dataflowProvider)(nil)
	_ provider.ProviderWithListResources = (*dataflowProvider)(nil)
)

type dataflowProvider struct {
	version string
	// now is the client's clock; tests replace it to share an emulator's
	// manual clock.
	now func() time.Time
}

// New returns the provider factory for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &dataflowProvider{version: version, now: time.Now}
	}
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	client *enos.Client
	// skipFlowValidation leaves out the plan-time read of each flow a new
	// trigger names, so that a plan costs no API request.
	skipFlowValidation bool
	// schedules finds two dataflow_flow_schedule resources for one flow.
	schedules scheduleClaims
}

type providerModel struct {
	Endpoint             types.String         `tfsdk:"endpoint"`
	AccessKey            types.String         `tfsdk:"access_key"`
	SecretKey            types.String         `tfsdk:"secret_key"`
	OrgID                types.String         `tfsdk:"org_id"`
	UserID               types.String         `tfsdk:"user_id"`
	APIVersion           types.String         `tfsdk:"api_version"`
	RequestTimeout       timetypes.GoDuration `tfsdk:"request_timeout"`
	MaxRetries           types.Int64          `tfsdk:"max_retries"`
	MaxRequestsPerSecond types.Float64        `tfsdk:"max_requests_per_second"`
	CACertPEM            types.String         `tfsdk:"ca_cert_pem"`
	SkipFlowValidation   types.Bool           `tfsdk:"skip_flow_validation"`
}

func (p *dataflowProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "dataflow"
	resp.Version = p.version
}

func (p *dataflowProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Triggers and tracks runs of the Dataflow Batch Service of Envision's EnOS platform, " +
			"through the EnOS API gateway (access key, secret key, token and per-request signature).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Scheme and host (and port) of the EnOS API gateway, e.g. `https://apim-ppe1.envisioniot.com`. " +
					"Plain `http` is accepted only for loopback hosts such as the local emulator. Falls back to `ENOS_ENDPOINT`.",
				Optional:   true,
				Validators: []validator.String{endpointValidator{}},
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Access key (`appKey`) of the EnOS application. Falls back to `ENOS_ACCESS_KEY`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Secret key (`appSecret`) of the EnOS application. It signs every request and is never sent, logged or stored. Falls back to `ENOS_SECRET_KEY`.",
				Optional:            true,
				Sensitive:           true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"org_id": schema.StringAttribute{
				MarkdownDescription: "EnOS organization (OU) id, e.g. `o15000000000001`. Falls back to `ENOS_ORG_ID`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"user_id": schema.StringAttribute{
				MarkdownDescription: "EnOS user id on whose behalf flows are triggered, e.g. `u15426865866571`. The user must own the flows it triggers. Falls back to `ENOS_USER_ID`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"api_version": schema.StringAttribute{
				MarkdownDescription: "Service API version: `v2.0` (default, path `dataflow-batch-service/v2.0`) or `v2.1` (path `batch-processing-service/v2.1`, EnOS 2.1.2 and later). Falls back to `ENOS_API_VERSION`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf("v2.0", "v2.1")},
			},
			"request_timeout": schema.StringAttribute{
				CustomType:          timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("Time limit of one HTTP attempt, as a Go duration from %s to %s such as `30s` (the default) or `2m`.", minRequestTimeout, maxRequestTimeout),
				Optional:            true,
				Validators:          []validator.String{durationBetween(minRequestTimeout, maxRequestTimeout)},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a call that is safe to repeat is retried on throttling (429), gateway errors (502, 503, 504), transient service errors (62109) and connection failures, with capped exponential backoff. From 0 to 10; default %d. Trigger calls are never repeated blindly.", defaultMaxRetries),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(0, 10)},
			},
			"max_requests_per_second": schema.Float64Attribute{
				MarkdownDescription: "Client-side limit on API requests per second of this provider instance, so that parallel pipelines of one organization stay under the gateway's rate limits. Unlimited when unset.",
				Optional:            true,
				Validators:          []validator.Float64{float64validator.AtLeast(0.1)},
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "Extra PEM-encoded CA certificates to trust for the gateway, added to the system pool. TLS verification is always on.",
				Optional:            true,
			},
			"skip_flow_validation": schema.BoolAttribute{
				MarkdownDescription: "Skip the plan-time read of the flows that new triggers name. By default a plan reads each such flow once " +
					"(one `flows/get` request per flow and provider process), so that an unknown `flow_id` fails the plan and a `parameters` key " +
					"the flow does not define is warned about. Set `true` for large backfills where every API request counts: plans then make " +
					"no request at all, and an unknown flow fails at apply instead. Defaults to `false`.",
				Optional: true,
			},
		},
	}
}

// credentialSetting is a provider attribute that falls back to an
// environment variable and must end up set.
type credentialSetting struct {
	attribute string
	envVar    string
	value     types.String
	target    *string
}

func (p *dataflowProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// A value that depends on another resource is unknown during plan. The
	// framework then leaves ProviderData unset: resources skip their
	// plan-time reads and everything is configured again at apply.
	if anyUnknown(config.Endpoint, config.AccessKey, config.SecretKey, config.OrgID, config.UserID,
		config.APIVersion, config.RequestTimeout, config.MaxRetries, config.MaxRequestsPerSecond, config.CACertPEM, config.SkipFlowValidation) {
		if req.ClientCapabilities.DeferralAllowed {
			resp.Deferred = &provider.Deferred{Reason: provider.DeferredReasonProviderConfigUnknown}
		}
		return
	}

	cfg := enos.Config{
		APIVersion:     stringOr(config.APIVersion, os.Getenv("ENOS_API_VERSION"), defaultAPIVersion),
		RequestTimeout: defaultRequestTimeout,
		MaxRetries:     defaultMaxRetries,
		UserAgent:      fmt.Sprintf("terraform-provider-dataflow/%s", p.version),
		Logger:         newTFLogger(),
		Now:            p.now,
	}
	settings := []credentialSetting{
		{"endpoint", "ENOS_ENDPOINT", config.Endpoint, &cfg.Endpoint},
		{"access_key", "ENOS_ACCESS_KEY", config.AccessKey, &cfg.AccessKey},
		{"secret_key", "ENOS_SECRET_KEY", config.SecretKey, &cfg.SecretKey},
		{"org_id", "ENOS_ORG_ID", config.OrgID, &cfg.OrgID},
		{"user_id", "ENOS_USER_ID", config.UserID, &cfg.UserID},
	}
	for _, s := range settings {
		*s.target = stringOr(s.value, os.Getenv(s.envVar), "")
		if *s.target == "" {
			resp.Diagnostics.AddAttributeError(path.Root(s.attribute), "Missing "+s.attribute,
				fmt.Sprintf("The provider needs `%s` to reach the Dataflow service. Set it in the provider block or in the %s environment variable.", s.attribute, s.envVar))
		}
	}
	if cfg.APIVersion != "v2.0" && cfg.APIVersion != "v2.1" {
		resp.Diagnostics.AddAttributeError(path.Root("api_version"), "Invalid api_version",
			fmt.Sprintf("ENOS_API_VERSION is %q; use v2.0 or v2.1.", cfg.APIVersion))
	}
	if !config.RequestTimeout.IsNull() {
		d, diags := config.RequestTimeout.ValueGoDuration()
		resp.Diagnostics.Append(diags...)
		cfg.RequestTimeout = d
	}
	if !config.MaxRetries.IsNull() {
		cfg.MaxRetries = int(config.MaxRetries.ValueInt64())
	}
	cfg.RequestsPerSecond = config.MaxRequestsPerSecond.ValueFloat64()
	cfg.CACertPEM = []byte(config.CACertPEM.ValueString())
	if resp.Diagnostics.HasError() {
		return
	}

	client, err := enos.New(cfg)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Dataflow provider configuration", err.Error())
		return
	}
	data := &providerData{client: client, skipFlowValidation: config.SkipFlowValidation.ValueBool()}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ActionData = data
	resp.ListResourceData = data
}

func (p *dataflowProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewFlowTriggerResource,
		NewFlowScheduleResource,
	}
}

// ListResources are the resources `terraform query` lists (Terraform 1.14
// and later).
func (p *dataflowProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewFlowTriggerListResource,
	}
}

// Actions are the provider's actions (Terraform 1.14 and later).
func (p *dataflowProvider) Actions(_ context.Context) []func() action.Action {
	return []func() action.Action{
		NewTriggerFlowAction,
	}
}

func (p *dataflowProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewFlowDataSource,
		NewFlowInstanceDataSource,
		NewFlowInstancesDataSource,
		NewFlowsDataSource,
	}
}

type unknowable interface{ IsUnknown() bool }

func anyUnknown(values ...unknowable) bool {
	for _, v := range values {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// stringOr returns the configured value, else the environment's, else def.
func stringOr(configured types.String, env, def string) string {
	if v := configured.ValueString(); v != "" {
		return v
	}
	if env != "" {
		return env
	}
	return def
}
