// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateFile is the name of a lab's state file inside its directory.
const stateFile = "state.json"

// Phases of a lab, in its state file.
const (
	phaseStarting = "starting" // Up is running (or crashed while running)
	phaseUp       = "up"       // Up returned successfully
	phaseStopping = "stopping" // Down is running (or crashed while running)
)

// procID identifies a process across PID reuse.
type procID struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"` // /proc/PID/stat field 22, clock ticks after boot
}

// procRecord is one process the lab started. It is written with PID 0
// before the process is created and updated right after, so a crash in
// between leaves a record whose process is found by the namespace sweep.
type procRecord struct {
	Service string   `json:"service"`
	Host    Host     `json:"host"`
	PID     int      `json:"pid"`
	Start   uint64   `json:"start_time"`
	Argv    []string `json:"argv"`
	Log     string   `json:"log"`
}

// state is what Down needs to remove a lab, even from another process after
// the one that ran Up crashed. Every namespace, directory and process is
// recorded before it is created.
type state struct {
	Version  int    `json:"version"`
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	Phase    string `json:"phase"`
	// Keep marks a lab meant to outlive its owner (`routerwatch lab up`).
	// Cleanup removes other labs once their owner is gone.
	Keep    bool      `json:"keep"`
	Owner   procID    `json:"owner"`
	Created time.Time `json:"created"`
	// Namespaces maps each host to its network namespace.
	Namespaces map[Host]string `json:"namespaces"`
	// NetnsDirs are the /etc/netns/<ns> directories the lab made.
	NetnsDirs []string     `json:"netns_dirs"`
	Processes []procRecord `json:"processes"`
}

const stateVersion = 1

// save writes st to dir atomically (write, fsync-free rename: /run is tmpfs).
func (st *state) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: state: %w", err)
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("lab: state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("lab: state: %w", err)
	}
	return nil
}

// ErrNoLab reports that no lab of that name has a state file.
var ErrNoLab = errors.New("no such lab")

func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lab: %w: %s", ErrNoLab, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("lab: state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("lab: state %s: version %d, want %d", filepath.Join(dir, stateFile), st.Version, stateVersion)
	}
	return &st, nil
}
