package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// importedRun is what import remembers of a run's parameters: salted
// digests, never values. Import cannot tell which of the run's parameters
// were write-only, so no value of the run may reach state, private state
// included; digests are enough to tell at plan time whether a configuration
// gives the run's effective parameters. The salt is random per import, so
// that equal values in different runs (or resources) do not show as equal
// digests and no precomputed table applies; a reader of the state can still
// test guesses of a value against its digest, as with any hash.
type importedRun struct {
	Salt []byte `json:"salt"`
	// Run maps each key of the run's effective parameters to the digest of
	// its value: the parameters the service reports, merged over the flow's
	// defaults (whether or not the service already merged them, SERVICE.md §3.1).
	Run map[string]string `json:"run"`
	// Defaults maps each of the flow's global parameters at import to the
	// digest of its default value; empty when the flow could not be read.
	Defaults map[string]string `json:"defaults"`
}

// newImportedRun digests a run's parameters over the flow's defaults with a
// fresh salt.
func newImportedRun(defaults, runParameters map[string]string) (*importedRun, error) {
	r := &importedRun{Salt: make([]byte, 32)}
	if _, err := rand.Read(r.Salt); err != nil {
		return nil, err
	}
	r.Run = r.digests(effectiveParameters(defaults, runParameters))
	r.Defaults = r.digests(defaults)
	return r, nil
}

// digest is HMAC-SHA-256 of one parameter under the salt. The key is
// length-prefixed so that no two (key, value) pairs hash the same input.
func (r *importedRun) digest(key, value string) string {
	mac := hmac.New(sha256.New, r.Salt)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(len(key))))
	mac.Write([]byte(key))
	mac.Write([]byte(value))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

func (r *importedRun) digests(parameters map[string]string) map[string]string {
	out := make(map[string]string, len(parameters))
	for k, v := range parameters {
		out[k] = r.digest(k, v)
	}
	return out
}

// mismatchedKeys lists, sorted, the parameter keys whose effective value
// under the given overrides (a configuration's parameters and
// parameters_wo) differs from the run's: none when the configuration
// describes this run.
func (r *importedRun) mismatchedKeys(overrides map[string]string) []string {
	want := maps.Clone(r.Defaults)
	if want == nil {
		want = map[string]string{}
	}
	maps.Copy(want, r.digests(overrides))
	var keys []string
	for k := range maps.Keys(want) {
		if r.Run[k] != want[k] {
			keys = append(keys, k)
		}
	}
	for k := range maps.Keys(r.Run) {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// ImportState adopts an existing run by its flow instance id (the import id
// or the identity's flow_instance_id). It stores
// none of the run's parameter values: any of them may have been write-only.
// `parameters` stays null, and private state keeps salted digests of the
// run's effective parameters and of the flow's defaults, so that the first
// plan after import can tell a configuration that describes this run (an
// in-place update) from one that does not (a new run). Behaviour settings
// get their defaults; trigger_time is stored in UTC.
func (r *flowTriggerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !resolveImportedInstance(ctx, &req, resp) || configuredClient(r.data, &resp.Diagnostics) == nil {
		return
	}
	inst, err := r.data.client.GetFlowInstance(ctx, req.ID)
	if err != nil {
		detail := fmt.Sprintf("Reading flow run %q: %s", req.ID, err)
		if enos.IsNotFound(err) {
			detail = fmt.Sprintf("The service knows no flow run %q. Import takes a flow instance id such as 1001-20240101080000.\n\n%s", req.ID, err)
		}
		resp.Diagnostics.AddError("Cannot import flow run", detail)
		return
	}

	defaults := map[string]string{}
	flow, flowErr := r.data.client.FlowGlobals(ctx, inst.FlowID)
	if flowErr != nil {
		resp.Diagnostics.AddWarning("Could not read the flow's defaults",
			fmt.Sprintf("Reading flow %d to tell the run's overrides from the flow's defaults failed, so only a configuration that sets every parameter of the run (in parameters or parameters_wo) matches it: %s", inst.FlowID, flowErr))
	} else {
		for _, p := range flow.Parameters {
			defaults[p.Key] = p.Value
		}
	}
	runParameters := map[string]string{}
	for _, p := range inst.Parameters {
		runParameters[p.Key] = p.Value
	}
	imported, err := newImportedRun(defaults, runParameters)
	if err != nil {
		resp.Diagnostics.AddError("Cannot import flow run", fmt.Sprintf("Making a random salt for the parameter digests failed: %s", err))
		return
	}
	model, diags := importedFlowTriggerModel(ctx, inst)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
	resp.Diagnostics.Append(setImportedRun(ctx, resp.Private, imported)...)
}

// importedFlowTriggerModel is the state of an existing run as import and
// the list resource (terraform query) give it: no parameter values (see
// ImportState), behaviour settings at their defaults, trigger_time in UTC.
// The configuration terraform query generates from it therefore sets no
// parameters, which parametersReplace takes as adopting the run.
func importedFlowTriggerModel(ctx context.Context, inst *enos.FlowInstance) (flowTriggerModel, diag.Diagnostics) {
	model := flowTriggerModel{
		ID:                  types.StringValue(inst.InstanceID),
		FlowInstanceID:      types.StringValue(inst.InstanceID),
		FlowID:              types.Int64Value(inst.FlowID),
		Parameters:          types.MapNull(types.StringType),
		ParametersWO:        types.MapNull(types.StringType),
		ParametersWOVersion: types.Int64Null(),
		TriggerTime:         rfc3339(inst.TriggerTime.UTC()),
		SentTriggerTime:     rfc3339(inst.TriggerTime.UTC()),
		Triggers:            types.MapNull(types.StringType),
		WaitForCompletion:   types.BoolValue(true),
		PollInterval:        timetypes.NewGoDurationValue(defaultPollInterval),
		OnDestroy:           types.StringValue(onDestroyDetach),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType,
		})},
	}
	diags := model.setInstance(ctx, inst)
	return model, diags
}
