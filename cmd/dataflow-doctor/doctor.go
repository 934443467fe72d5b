package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/provider"
)

// result is one line of the report.
type result struct {
	Check    string `json:"check"`
	Status   string `json:"status"` // ok, warning, failed, skipped
	Detail   string `json:"detail"`
	Provider string `json:"provider,omitempty"` // what the provider does about it
}

// The gateway refuses a request whose timestamp is more than 15 minutes
// from its clock (SERVICE.md §2.3); a third of that is worth a warning.
const (
	clockWindow  = 15 * time.Minute
	clockWarning = 5 * time.Minute
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dataflow-doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flowID := fs.Int64("flow", 0, "also check this flow: owner, lock, tasks, cycle, parameters, and what its runs show")
	asJSON := fs.Bool("json", false, "print the report as JSON, to attach to an issue")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := enos.Config{
		Endpoint: getenv("ENOS_ENDPOINT"), AccessKey: getenv("ENOS_ACCESS_KEY"), SecretKey: getenv("ENOS_SECRET_KEY"),
		OrgID: getenv("ENOS_ORG_ID"), UserID: getenv("ENOS_USER_ID"), APIVersion: getenv("ENOS_API_VERSION"),
		RequestTimeout: 30 * time.Second, MaxRetries: 1, UserAgent: "dataflow-doctor",
	}
	report := check(ctx, cfg, *flowID)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
	} else {
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "CHECK\tSTATUS\tDETAIL")
		for _, r := range report {
			detail := r.Detail
			if r.Provider != "" {
				detail += " Provider: " + r.Provider
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Check, r.Status, strings.ReplaceAll(detail, "\n", " "))
		}
		_ = w.Flush()
	}
	if slices.ContainsFunc(report, func(r result) bool { return r.Status == "failed" }) {
		return 1
	}
	return 0
}

// check runs the checks in order; one whose prerequisite failed is skipped.
func check(ctx context.Context, cfg enos.Config, flowID int64) []result {
	var report []result
	add := func(r result) { report = append(report, r) }
	failed := func(name, action string, flow int64, err error) { add(explained(name, "failed", action, flow, err)) }
	client, err := enos.New(cfg)
	if err != nil {
		add(result{Check: "settings", Status: "failed", Detail: err.Error() + " (set ENOS_ENDPOINT, ENOS_ACCESS_KEY, ENOS_SECRET_KEY, ENOS_ORG_ID and ENOS_USER_ID as for the provider)"})
		return report
	}
	add(result{Check: "settings", Status: "ok", Detail: fmt.Sprintf("endpoint %s, org %s, user %s, api_version %s", cfg.Endpoint, cfg.OrgID, cfg.UserID, cmp.Or(cfg.APIVersion, enos.APIVersion20))})

	before := time.Now()
	serverNow, err := client.GetCurrentTime(ctx)
	if err != nil {
		failed("token and signature", "Reading the server time", 0, err)
		return report
	}
	add(result{Check: "token and signature", Status: "ok", Detail: "a token was obtained and a signed call answered"})
	skew := serverNow.Sub(before.Add(time.Since(before) / 2)).Round(time.Second)
	clock := result{Check: "clock", Status: "ok", Detail: fmt.Sprintf("the server's clock is %s from this machine's", skew),
		Provider: "signs every request with this machine's time; the gateway refuses it beyond 15 minutes."}
	switch {
	case skew.Abs() > clockWindow:
		clock.Status = "failed"
	case skew.Abs() > clockWarning:
		clock.Status = "warning"
	}
	add(clock)

	if loc, err := client.GetTimeZone(ctx); err != nil {
		failed("time zone", "Reading the server's time zone", 0, err)
	} else {
		add(result{Check: "time zone", Status: "ok", Detail: "the server's zone is " + loc.String(),
			Provider: "reads the service's zone-less times in it, and names expected instance ids with it."})
	}

	for _, version := range []string{enos.APIVersion20, enos.APIVersion21} {
		vcfg := cfg
		vcfg.APIVersion = version
		vc, err := enos.New(vcfg)
		if err == nil {
			_, err = vc.GetCurrentTime(ctx)
		}
		status, detail := "ok", "answers"
		if err != nil {
			status, detail = "warning", "does not answer: "+err.Error()
		}
		add(result{Check: "api_version " + version, Status: status, Detail: detail})
	}

	flows, err := client.GetMyFlows(ctx, "")
	if err != nil {
		failed("the user's flows", "Listing the user's flows", 0, err)
	} else {
		add(result{Check: "the user's flows", Status: "ok", Detail: fmt.Sprintf("%d flow(s) visible to user %s", len(flows), cfg.UserID)})
	}
	if flowID > 0 {
		report = append(report, checkFlow(ctx, client, flowID)...)
	}
	return report
}

// checkFlow reports one flow and what its runs show of the service.
func checkFlow(ctx context.Context, client *enos.Client, flowID int64) []result {
	name := fmt.Sprintf("flow %d", flowID)
	flow, err := client.GetFlow(ctx, flowID)
	if err != nil {
		return []result{explained(name, "failed", "Reading flow", flowID, err)}
	}
	var keys []string
	for _, p := range flow.Parameters {
		keys = append(keys, p.Key)
	}
	status := "ok"
	var problems []string
	if flow.Locked {
		status = "failed"
		problems = append(problems, "the flow is locked: triggers and cancels are refused")
	}
	if flow.IsUserLocked {
		status = "failed"
		problems = append(problems, "the provider's user is locked: its triggers and schedule changes are refused (62105)")
	}
	if len(flow.Tasks) == 0 {
		status = "failed"
		problems = append(problems, "the flow has no task: it cannot be triggered")
	}
	// The owners are usernames, which the provider's user_id does not name:
	// a trigger by a user who is not among them is refused (62103).
	detail := fmt.Sprintf("%q, owners %s, %d task(s), cycle %s, global parameters [%s]", flow.FlowName, strings.Join(flow.Owners, ";"), len(flow.Tasks), flow.Cycle, strings.Join(keys, ", "))
	if len(problems) > 0 {
		detail += "; " + strings.Join(problems, "; ")
	}
	out := []result{{Check: name, Status: status, Detail: detail}}

	runs, err := client.SearchFlowInstances(ctx, enos.InstanceSearch{FlowID: flowID, MaxResults: 50, SortDescending: true})
	if err != nil {
		return append(out, explained(name+" runs", "failed", "Searching the flow's runs", flowID, err))
	}
	if len(runs) == 0 {
		return append(out, result{Check: name + " runs", Status: "ok", Detail: "no run yet: the instance id form and the statuses cannot be seen"})
	}
	forms, statuses := map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		forms[idForm(r.InstanceID, flowID)] = true
		statuses[r.Status.Name()] = true
	}
	out = append(out, result{Check: name + " runs", Status: "ok",
		Detail:   fmt.Sprintf("%d recent run(s); instance ids name the trigger %s; statuses seen: %s", len(runs), strings.Join(slices.Sorted(maps.Keys(forms)), " and "), strings.Join(slices.Sorted(maps.Keys(statuses)), ", ")),
		Provider: "gives each trigger of this flow its own slot of that size, and moves a re-run to a free one of the same period."})
	probe, err := client.ProbeSearch(ctx, flowID)
	if err != nil {
		return append(out, explained("run search", "warning", "Probing the run search", flowID, err))
	}
	pages := "cannot be told from the runs there are"
	if probe.FirstPage >= 0 {
		pages = fmt.Sprintf("pageNo counts from %d", probe.FirstPage)
	}
	return append(out, result{Check: "run search", Status: "ok",
		Detail:   fmt.Sprintf("the sorter is accepted in %s; %s", probe.SorterForm, pages),
		Provider: "retries a refused camelCase sorter in snake_case, and pages from the version's documented first page, removing repeated runs."})
}

// explained is a failed check, with the explanation the provider would give.
func explained(check, status, action string, flowID int64, err error) result {
	summary, detail := provider.DescribeError(action, flowID, err)
	return result{Check: check, Status: status, Detail: summary + ": " + detail}
}

// idForm says which slot an instance id names: the trigger minute (14 or
// 12 digits after the flow id) or hour (10).
func idForm(id string, flowID int64) string {
	digits, ok := strings.CutPrefix(id, fmt.Sprintf("%d-", flowID))
	switch {
	case !ok:
		return "time in an undocumented form (" + id + ")"
	case len(digits) == 10:
		return "hour"
	case len(digits) == 12 || len(digits) == 14:
		return "minute"
	}
	return "time in an undocumented form (" + id + ")"
}
