package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bench floor prints the cost of an event and what 100 M events would take, with a trace hash
// that the seed decides.
func TestBenchFloorPrintsTheCostOfAnEventAndIsRepeatable(t *testing.T) {
	args := []string{"bench", "floor", "--viewers", "200", "--duration", "3s", "--huge-pages=false"}
	out, errOut, err := execute(t, args...)
	require.NoError(t, err)
	assert.Regexp(t, `floor: 200 viewers in world on 16 regions for 3s virtual, on the floor alone`, out)
	assert.Regexp(t, `wall +\S+ for the \d+ events after the first virtual second: \d+ ns per event`, out)
	assert.Regexp(t, `100 M events at this cost: \d+ s`, out)
	assert.Empty(t, errOut, "progress comes every 10 virtual seconds")

	again, _, err := execute(t, args...)
	require.NoError(t, err)
	assert.Equal(t, hashLine(t, out), hashLine(t, again), "the same seed gives the same trace hash")
}

// --with runs the same workload on the lab's own parts, and says so.
func TestBenchFloorWithTheLabsLayersSaysWhichItRan(t *testing.T) {
	for _, tc := range []struct{ with, says string }{
		{"kernel", "on the lab's kernel"},
		{"kernel,network", "on the lab's kernel, network"},
		{"kernel,network,circuit", "on the lab's kernel, network, circuits"},
	} {
		out, _, err := execute(t, "bench", "floor", "--viewers", "50", "--duration", "2s", "--huge-pages=false", "--with", tc.with)
		require.NoError(t, err, tc.with)
		assert.Contains(t, out, tc.says+"\n", tc.with)
		assert.Regexp(t, `\d+ ns per event`, out, tc.with)
	}
}

func TestBenchFloorRefusesWhatItCannotRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "1500ms"}, "--duration 1.5s"},
		{[]string{"--with", "observer"}, `--with "observer": the layers are kernel, network and circuit`},
		{[]string{"--with", "network"}, "--with network: the network layer (netem) and the circuits (their clock) run on the kernel layer (sim): add kernel"},
		{[]string{"--with", "circuit"}, "--with circuit: the network layer (netem) and the circuits (their clock) run on the kernel layer (sim): add kernel"},
	} {
		_, _, err := execute(t, append([]string{"bench", "floor", "--viewers", "10"}, tc.args...)...)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func hashLine(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`trace hash +0x[0-9a-f]{16}`).FindString(out)
	require.NotEmpty(t, m, "no trace hash in:\n%s", out)
	return m
}
