package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/scenarios"
)

// bench grid measures our own login and region code and prints a capacity block that a
// scenario accepts as it is.
func TestBenchGridPrintsACapacityBlockScenariosAccept(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmarks for a second or two")
	}
	out, _, err := execute(t, "bench", "grid")
	require.NoError(t, err)
	assert.Regexp(t, `login_time +\S+ per login`, out)
	assert.Regexp(t, `region_packet_time +\S+ per inbound AgentUpdate`, out)
	block := regexp.MustCompile(`(?s)capacity:\n.*`).FindString(out)
	require.NotEmpty(t, block)
	data, err := scenarios.Files.ReadFile("sim-reply-blocked.yaml")
	require.NoError(t, err)
	text := regexp.MustCompile(`(?m)^  accounts:`).ReplaceAllString(string(data), indent(strings.TrimRight(block, "\n"))+"\n  accounts:")
	sc, err := scenarios.Parse("s.yaml", []byte(text))
	require.NoError(t, err, "the printed block is valid grid.capacity:\n%s", block)
	assert.Positive(t, sc.Grid.Capacity.LoginTime)
	assert.Positive(t, sc.Grid.Capacity.RegionPacketTime)
}

func indent(s string) string {
	return regexp.MustCompile(`(?m)^`).ReplaceAllString(s, "  ")
}
