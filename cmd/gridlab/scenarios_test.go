package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScenariosListNamesEveryBundledScenario(t *testing.T) {
	out, _, err := execute(t, "scenarios", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "standalone-basic")
	assert.Contains(t, out, "sim-reply-blocked")
}

func TestScenariosCheckNamesTheFileLineAndKeyOfATypo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\nviewers:\n  - name: a\n    cuont: 3\n"), 0o644))
	_, errOut, err := execute(t, "scenarios", "check", bad, "../../scenarios/standalone-basic.yaml")
	require.Error(t, err, "a bad file makes the command fail")
	assert.Contains(t, errOut, bad+`:4: viewers[0].cuont: unknown key "cuont"`)
	assert.Contains(t, err.Error(), "1 of 2 scenario files have problems")
}
