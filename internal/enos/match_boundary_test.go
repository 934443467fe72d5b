package enos

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRunMatchingSeesOnlyRunService keeps run matching (the match*.go
// files) off the transport: it may reach the service through runService
// only, so its rule can be read, and tested, without HTTP.
func TestRunMatchingSeesOnlyRunService(t *testing.T) {
	files, err := filepath.Glob("match*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbiddenImports := map[string]bool{"net/http": true, "net/url": true, "encoding/json": true, "net": true}
	// The Client and what it sends requests with.
	forbiddenNames := map[string]bool{"Client": true, "httpRunService": true, "apiCall": true, "exchange": true, "tokenCache": true}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); forbiddenImports[path] {
				t.Errorf("%s imports %s: run matching reaches the service through runService only", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && forbiddenNames[id.Name] {
				t.Errorf("%s uses %s: run matching reaches the service through runService only", name, id.Name)
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("found %d run-matching files, want the match*.go group", checked)
	}
}
