//go:build benchprofile

// This file is not part of the harness: the harness compiles it into the
// provider's own main package (go build -overlay, see buildOverlay) for the
// profile rows. Terraform ends the provider process without letting it
// flush, so the profile is written in chunks of a tenth of a second (an
// apply's provider processes live about one second each), which pprof
// merges.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// profileDirVar names the directory the chunks go to; unset, nothing is profiled.
const profileDirVar = "DATAFLOW_BENCH_CPUPROFILE"

func init() {
	dir := os.Getenv(profileDirVar)
	if dir == "" {
		return
	}
	go profileInChunks(dir)
}

func profileInChunks(dir string) {
	for chunk := 0; ; chunk++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d-%04d.pprof", os.Getpid(), chunk)))
		if err != nil {
			return
		}
		if pprof.StartCPUProfile(f) != nil {
			_ = f.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
