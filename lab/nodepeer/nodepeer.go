// Package nodepeer finds the node-metaverse peer for interop tests: a copy of
// shared/peers/node-metaverse with its node_modules installed (.ci/run prepares one and sets
// NODE_METAVERSE_DIR), and the node binary to run it with.
package nodepeer

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Require returns the node-metaverse folder and the path of node, or skips t, saying what is
// missing: NODE_METAVERSE_DIR unset, the library not installed there, or no node on PATH.
func Require(t testing.TB) (dir, node string) {
	t.Helper()
	dir = os.Getenv("NODE_METAVERSE_DIR")
	if dir == "" {
		t.Skip("NODE_METAVERSE_DIR not set (a node-metaverse copy with node_modules installed)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@caspertech", "node-metaverse")); err != nil {
		t.Skipf("NODE_METAVERSE_DIR: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	return dir, node
}
