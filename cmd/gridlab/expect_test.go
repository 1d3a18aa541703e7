package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/scenarios"
)

// wrongExpectation writes the bundled sim-reply-blocked scenario with one expectation that
// cannot hold (every viewer logs in) to a temporary file.
func wrongExpectation(t *testing.T) string {
	t.Helper()
	data, err := scenarios.Files.ReadFile("sim-reply-blocked.yaml")
	require.NoError(t, err)
	text := string(data) + "  - {outcome: success, min: 20}\n"
	path := filepath.Join(t.TempDir(), "wrong.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestAFailedExpectationIsNamedWithItsObservedValue(t *testing.T) {
	dir := t.TempDir()
	_, _, err := execute(t, "run", wrongExpectation(t), "--quiet", "--out", dir)
	require.Error(t, err)
	assert.Equal(t, ExitExpectations, exitCode(err))
	assert.Equal(t, "expectation failed: viewers with outcome success >= 20: observed 0", err.Error(),
		"only the failed expectation is named")

	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err, "the report is written even when an expectation fails")
	var rep struct {
		Expectations []struct {
			Name     string `json:"name"`
			Observed string `json:"observed"`
			Pass     bool   `json:"pass"`
		} `json:"expectations"`
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	require.NotEmpty(t, rep.Expectations)
	last := len(rep.Expectations) - 1
	for i, e := range rep.Expectations[:last] {
		assert.True(t, e.Pass, "the scenario's own expectation %d (%s) holds", i, e.Name)
	}
	assert.False(t, rep.Expectations[last].Pass, "the appended one fails")
	assert.Equal(t, "0", rep.Expectations[last].Observed)
}

// TestFailedExpectationsExitWith99 runs the real main in a child process.
func TestFailedExpectationsExitWith99(t *testing.T) {
	if os.Getenv("GRIDLAB_TEST_MAIN") == "1" {
		os.Args = append([]string{"gridlab"}, strings.Fields(os.Getenv("GRIDLAB_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFailedExpectationsExitWith99$")
		cmd.Env = append(os.Environ(), "GRIDLAB_TEST_MAIN=1", "GRIDLAB_TEST_ARGS="+strings.Join(args, " "))
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		require.NoError(t, err, "%s", out)
		return 0, string(out)
	}
	code, out := run("run", wrongExpectation(t), "--quiet", "--out", t.TempDir())
	assert.Equal(t, 99, code, "%s", out)
	assert.Contains(t, out, "gridlab: expectation failed: viewers with outcome success >= 20: observed 0")

	code, out = run("run", "sim-reply-blocked", "--quiet", "--out", t.TempDir())
	assert.Equal(t, 0, code, "the bundled scenario's expectations hold: %s", out)

	code, _ = run("run", "no-such-scenario", "--quiet")
	assert.Equal(t, 1, code, "other errors exit 1")
}
