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
	assert.Regexp(t, `floor: 200 viewers in world on 16 regions for 3s virtual`, out)
	assert.Regexp(t, `wall +\S+ for the \d+ events after the first virtual second: \d+ ns per event`, out)
	assert.Regexp(t, `100 M events at this cost: \d+ s`, out)
	assert.Empty(t, errOut, "progress comes every 10 virtual seconds")

	again, _, err := execute(t, args...)
	require.NoError(t, err)
	assert.Equal(t, hashLine(t, out), hashLine(t, again), "the same seed gives the same trace hash")
}

func TestBenchFloorRefusesARunTooShortToTime(t *testing.T) {
	_, _, err := execute(t, "bench", "floor", "--viewers", "10", "--duration", "1500ms")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--duration 1.5s")
}

func hashLine(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`trace hash +0x[0-9a-f]{16}`).FindString(out)
	require.NotEmpty(t, m, "no trace hash in:\n%s", out)
	return m
}
