package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Kinds of provider process, as the wrapper in front of each build names
// the file of its peak memory.
const (
	providerKind = "provider" // the provider as built
	floorKind    = "floor"    // the like-for-like floor
	profiledKind = "profiled" // a build with the CPU profiler running
)

// rowName names the row a terraform command counts for: what runs, with
// N triggers (or resources).
type rowName struct {
	What string
	N    int
}

func (r rowName) String() string { return fmt.Sprintf("%s, N = %d", r.What, r.N) }

// processPeak is the largest peak RSS of some processes, and how many.
type processPeak struct{ KiB, Processes int }

func (p *processPeak) add(kib int) { p.KiB, p.Processes = max(p.KiB, kib), p.Processes+1 }

// memoryRow is the peak memory of the terraform commands run for one row,
// by process.
type memoryRow struct {
	rowName
	CLI      processPeak // the terraform processes: the kernel's maxrss at their exit
	Provider processPeak // processes of the provider build
	Floor    processPeak // processes of the floor build
	Profiled processPeak // processes of the builds with the CPU profiler
}

// cliOwn reports whether CLI.KiB is the terraform processes' own peak. The
// kernel's maxrss of a process waited for is the larger of its own and that
// of the children it waited for, and terraform waits for its provider
// processes: a figure no larger than theirs may be theirs.
func (m memoryRow) cliOwn() bool {
	return m.CLI.KiB > max(m.Provider.KiB, m.Floor.KiB, m.Profiled.KiB)
}

// recordMemory adds the peaks of one finished terraform command to its row:
// the command's own from cmd, its provider processes' from the files their
// wrappers wrote (terraform waits for them before it exits).
func (w *workspace) recordMemory(row rowName, cmd *exec.Cmd) error {
	i := 0
	for i < len(w.memory) && w.memory[i].rowName != row {
		i++
	}
	if i == len(w.memory) {
		w.memory = append(w.memory, memoryRow{rowName: row})
	}
	m := &w.memory[i]
	if cmd.ProcessState != nil {
		if usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.CLI.add(int(usage.Maxrss)) // KiB on Linux
		}
	}
	entries, err := os.ReadDir(w.rssDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		file := filepath.Join(w.rssDir, e.Name())
		kib, err := readPeakRSS(file)
		if err != nil {
			return err
		}
		switch kind, _, _ := strings.Cut(e.Name(), "."); kind {
		case providerKind:
			m.Provider.add(kib)
		case floorKind:
			m.Floor.add(kib)
		case profiledKind:
			m.Profiled.add(kib)
		default:
			return fmt.Errorf("%s: not a file of a provider process's peak memory", file)
		}
		if err := os.Remove(file); err != nil {
			return err
		}
	}
	return nil
}

// readPeakRSS reads the peak RSS (KiB) GNU time wrote to file.
func readPeakRSS(file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	// GNU time puts a note about a non-zero exit status before the figure.
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, fmt.Errorf("%s: no peak RSS recorded", file)
	}
	kib, err := strconv.Atoi(fields[len(fields)-1])
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	return kib, nil
}

// slug makes s fit a directory name.
func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, s), "-")
}
