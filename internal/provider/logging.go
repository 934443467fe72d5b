package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// secretFieldKeys are log field names whose values are always masked. The
// client never logs secrets; this is the one place that makes sure of it
// should a field ever carry one.
var secretFieldKeys = []string{
	"secret_key", "secretKey", "appSecret", "access_token", "accessToken",
	"apim-accesstoken", "apim-signature", "signature", "encryption",
}

// tfLogger sends the client's debug logs to tflog under the "enos" subsystem.
type tfLogger struct{}

func newTFLogger() enos.Logger { return tfLogger{} }

func (tfLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	ctx = tflog.NewSubsystem(ctx, "enos")
	ctx = tflog.SubsystemMaskFieldValuesWithFieldKeys(ctx, "enos", secretFieldKeys...)
	tflog.SubsystemDebug(ctx, "enos", msg, fields)
}
