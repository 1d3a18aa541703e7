package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestRunHelpDocumentsItsFlags(t *testing.T) {
	out, _, err := execute(t, "run", "--help")
	require.NoError(t, err)
	for _, flag := range []string{"--seed", "--out", "--viewers", "--quiet"} {
		assert.Contains(t, out, flag, "run --help documents %s", flag)
	}
}

func TestRunWritesTheReportAndPrintsTheSummary(t *testing.T) {
	dir := t.TempDir()
	// A failing expectation exits 99, but the run folder and summary are written all the same.
	out, _, err := execute(t, "run", "sim-reply-blocked", "--viewers", "4", "--out", dir,
		"--set", `expect=[{rate: success, threshold: "> 0.5"}]`)
	var ee *ExpectationsError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, ExitExpectations, exitCode(err))
	assert.Contains(t, out, "viewers logged in  0/4")
	assert.Contains(t, out, "sim-reply-blocked")
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var rep struct {
		Outcomes map[string]int `json:"outcomes"`
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	assert.Equal(t, map[string]int{"sim-reply-blocked": 4}, rep.Outcomes)
	for _, f := range []string{"cdf-login-to-world.svg", "stages-cdf.svg"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, "%s is written", f)
	}
}

func TestQuietRunPrintsNothing(t *testing.T) {
	out, errOut, err := execute(t, "run", "sim-reply-blocked", "--viewers", "2", "--set", "expect=", "--quiet", "--out", t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, out)
	assert.Empty(t, errOut)
}

func TestUnknownScenarioIsAClearError(t *testing.T) {
	_, _, err := execute(t, "run", "no-such-scenario", "--quiet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scenario "no-such-scenario": no such file, and no bundled scenario of that name`)
}

func TestNegativeViewersIsAnErrorNotTheWholeScenario(t *testing.T) {
	// A typo like --viewers -2000 must not quietly start the scenario at full size.
	_, _, err := execute(t, "run", "standalone-basic", "--viewers", "-5", "--quiet", "--out", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--viewers -5 is negative")
}

func TestCapacityKeysAreCheckedWithTheirPath(t *testing.T) {
	// A capacity model that could only misbehave (0 workers) is refused before the run, naming
	// the key as --set gave it.
	_, _, err := execute(t, "run", "login-storm", "--set", "grid.capacity.login_workers=0", "--quiet", "--out", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--set: grid.capacity.login_workers: 0 workers would never answer a login")
}

func TestSetOverridesAScenarioFieldAndRejectsTypos(t *testing.T) {
	dir := t.TempDir()
	_, _, err := execute(t, "run", "sim-reply-blocked", "--set", "viewers.home.count=3", "--set", "expect=", "--quiet", "--out", dir)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"sim-reply-blocked": 3`, "--set changed the population to 3 viewers")

	_, _, err = execute(t, "run", "--set", "viewers.home.cuont=3", "--quiet", "--out", dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `viewers.home.cuont: unknown key "cuont"`)
}
