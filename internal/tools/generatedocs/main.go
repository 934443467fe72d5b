// Command generatedocs writes the provider's documentation with tfplugindocs
// from a schema the provider reports itself, served in process through its
// protocol-6 server. tfplugindocs would otherwise ask the terraform CLI on
// PATH for the schema, and a CLI older than the provider's newest features
// (actions and list resources need Terraform 1.14) leaves them out.
//
// Run it from the repository root (`go generate` does).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/enos-community/terraform-provider-dataflow/internal/provider"
)

// providerName is the provider's local name; tfplugindocs looks its schema
// up under that key.
const providerName = "dataflow"

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "generatedocs:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	server := provider.NewProtocol6Server(provider.New("docs")())()
	schemas, err := providerSchemas(ctx, server, providerName)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(schemas)
	if err != nil {
		return fmt.Errorf("encoding the provider schema: %w", err)
	}
	dir, err := os.MkdirTemp("", "dataflow-docs-schema")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	schemaFile := filepath.Join(dir, "providers-schema.json")
	if err := os.WriteFile(schemaFile, raw, 0o600); err != nil {
		return err
	}

	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile=tools/go.mod", "tfplugindocs", "generate",
		"-provider-name", providerName, "-providers-schema", schemaFile)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tfplugindocs generate: %w", err)
	}
	return nil
}
