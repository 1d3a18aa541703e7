package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunJSONPrintsTheSummaryForScripts(t *testing.T) {
	// run --json prints only JSON on stdout (progress stays on stderr).
	dir := t.TempDir()
	out, _, err := execute(t, "run", "sim-reply-blocked", "--json", "--out", dir)
	require.NoError(t, err)
	var s struct {
		SchemaVersion int            `json:"schema_version"`
		Outcomes      map[string]int `json:"outcomes"`
		Passed        bool           `json:"passed"`
		Report        string         `json:"report"`
		Index         string         `json:"index"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &s), "stdout is one JSON document: %s", out)
	assert.Equal(t, 2, s.SchemaVersion)
	assert.Equal(t, map[string]int{"sim-reply-blocked": 20}, s.Outcomes)
	assert.True(t, s.Passed, "the bundled scenario's expectations hold")
	assert.Equal(t, filepath.Join(dir, "report.json"), s.Report)
	assert.FileExists(t, s.Index)
}

func TestReportRerendersARunFolder(t *testing.T) {
	// report DIR rewrites the figures and index.html identically from the data files.
	dir := t.TempDir()
	_, _, err := execute(t, "run", "sim-reply-blocked", "--viewers", "3", "--set", "expect=", "--quiet", "--out", dir)
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "index.html")))
	require.NoError(t, os.Remove(filepath.Join(dir, "stages-cdf.png")))
	out, _, err := execute(t, "report", dir)
	require.NoError(t, err)
	assert.Contains(t, out, "re-rendered")
	after, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	assert.FileExists(t, filepath.Join(dir, "stages-cdf.png"))
}

func TestReportCompareShowsDeltasAndWritesAPage(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	_, _, err := execute(t, "run", "--viewers", "20", "--quiet", "--out", a)
	require.NoError(t, err)
	_, _, err = execute(t, "run", "--viewers", "20", "--seed", "2", "--quiet", "--out", b)
	require.NoError(t, err)
	page := filepath.Join(t.TempDir(), "cmp.html")
	out, _, err := execute(t, "report", "compare", a, b, "--html", page)
	require.NoError(t, err)
	for _, want := range []string{"outcome", "success", "AgentMovementComplete", "p99", "B-A", "comparison page: " + page} {
		assert.Contains(t, out, want)
	}
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(data), "CDFs overlaid")

	_, _, err = execute(t, "report", "compare", a, filepath.Join(a, "nope"))
	assert.Error(t, err)
}
