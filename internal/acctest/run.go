package acctest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Running is a CLI command the test started and reads while it runs, to
// act on what it does (send it SIGINT, move the emulator's clock).
type Running struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan error
}

// ConfigDir writes config as main.tf of a new directory, for a test that
// runs the CLI itself, and returns the directory.
func ConfigDir(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartApply starts `apply -auto-approve -no-color` in dir.
func StartApply(t *testing.T, cliConfig, dir string) *Running {
	t.Helper()
	return Start(t, cliConfig, dir, "apply", "-auto-approve", "-no-color")
}

// Start starts CLI with args in dir.
func Start(t *testing.T, cliConfig, dir string, args ...string) *Running {
	t.Helper()
	r := &Running{exited: make(chan error, 1)}
	r.cmd = Command(t, cliConfig, dir, nil, args...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	return r
}

// Output is what the command wrote so far, stdout and stderr together.
func (r *Running) Output() string { return r.out.String() }

// Interrupt sends the command SIGINT, as Ctrl-C or a cancelled CI job does.
func (r *Running) Interrupt(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// InterruptWhen sends the command SIGINT once cond holds, and nothing when
// the command ends first.
func (r *Running) InterruptWhen(cond func() bool) {
	if r.until(cond) {
		// The command may end between cond and the signal; Wait tells.
		_ = r.cmd.Process.Signal(os.Interrupt)
	}
}

// WaitFor polls cond until it holds; the command ending first fails the
// test.
func (r *Running) WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !r.until(cond) {
		err := <-r.exited
		r.exited <- err
		t.Fatalf("terraform ended (%v) before %s:\n%s", err, what, r.Output())
	}
}

// until polls cond until it holds (true) or the command ends (false; its
// exit stays for Wait).
func (r *Running) until(cond func() bool) bool {
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for !cond() {
		select {
		case err := <-r.exited:
			r.exited <- err
			return false
		case <-ticker.C:
		}
	}
	return true
}

// Wait returns the command's exit error.
func (r *Running) Wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("terraform: %v", err)
		}
		return err
	case <-t.Context().Done():
		t.Fatalf("test ended while terraform ran:\n%s", r.Output())
		return nil
	}
}

// lockedBuffer is a bytes.Buffer that the test reads while the CLI writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
