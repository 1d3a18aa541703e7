package scenarios

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArrivalProcesses(t *testing.T) {
	r := func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
	const n = 1000
	window := 100 * time.Second

	t.Run("constant spreads arrivals evenly over the window", func(t *testing.T) {
		s, err := Arrival{Process: ArrivalConstant, At: 5 * time.Second, Window: window}.Starts(n, r())
		require.NoError(t, err)
		assert.Equal(t, 5*time.Second, s[0])
		assert.Equal(t, 5*time.Second+100*time.Millisecond, s[1])
		assert.Equal(t, 5*time.Second+99900*time.Millisecond, s[n-1])
	})
	t.Run("constant at a rate", func(t *testing.T) {
		s, err := Arrival{Process: ArrivalConstant, Rate: "4/s"}.Starts(5, r())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond, time.Second}, s)
	})
	t.Run("poisson gaps average 1/rate and arrive in order", func(t *testing.T) {
		s, err := Arrival{Process: ArrivalPoisson, Rate: "10/s"}.Starts(n, r())
		require.NoError(t, err)
		assert.True(t, slices.IsSorted(s))
		mean := s[n-1].Seconds() / n
		assert.InDelta(t, 0.1, mean, 0.01, "mean gap of 1000 exponential gaps at 10/s")
	})
	t.Run("a ramp puts half the arrivals in the last 29 % of the window", func(t *testing.T) {
		s, err := Arrival{Process: ArrivalRamp, Window: window}.Starts(n, r())
		require.NoError(t, err)
		assert.True(t, slices.IsSorted(s))
		assert.InDelta(t, 70.7, s[n/2].Seconds(), 0.2, "the median arrival is at W·√½")
	})
	t.Run("a burst is one instant", func(t *testing.T) {
		s, err := Arrival{Process: ArrivalBurst, At: 10 * time.Second}.Starts(3, r())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}, s)
	})
	t.Run("uniform stays inside the window", func(t *testing.T) {
		s, err := Arrival{At: time.Second, Window: window}.Starts(n, r())
		require.NoError(t, err)
		for _, d := range s {
			assert.True(t, d >= time.Second && d < time.Second+window)
		}
	})
}

func TestParseEventRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"50/s", 50, ""}, {"3000/m", 50, ""}, {"0.5/s", 0.5, ""}, {"7200/h", 2, ""}, {"0", 0, ""},
		{"50", 0, "not a rate"}, {"fast/s", 0, "not a non-negative number"}, {"5/day", 0, "use /s, /m or /h"}, {"-1/s", 0, "non-negative"},
	} {
		got, err := ParseEventRate(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.InDelta(t, tc.want, got, 1e-9, tc.in)
	}
}

// population swaps the viewers block of a bundled scenario for block and parses it.
func withViewers(t *testing.T, block string) (*Scenario, error) {
	t.Helper()
	data, err := Files.ReadFile("sim-reply-blocked.yaml")
	require.NoError(t, err)
	head, _, ok := strings.Cut(string(data), "\nviewers:\n")
	require.True(t, ok)
	return Parse("s.yaml", []byte(head+"\nviewers:\n"+block))
}

func TestPopulationBehaviourErrorsNameTheKey(t *testing.T) {
	_, err := withViewers(t, `  - name: a
    count: 5
    network: internet
    login_uri: http://203.0.113.7:9000/
    arrival: {process: poison, rate: 5/s}
    agent_updates: often
    unknown_avatars: 150%
    relogin: {after: -1s}
  - name: b
    count: 5
    network: internet
    login_uri: http://203.0.113.7:9000/
    arrival: {process: ramp}
`)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`viewers[0].arrival.process: "poison" is not an arrival process (known: uniform, constant, poisson, ramp, burst)`,
		`viewers[0].agent_updates: "often" is not a rate`,
		`viewers[0].unknown_avatars: "150%" is out of range`,
		`viewers[0].relogin.after: -1s is negative`,
		`viewers[1].arrival.window: missing: a ramp needs the window it ramps over`,
	} {
		assert.Contains(t, msg, want)
	}
}

func TestRegionsINIFileIsReadRelativeToTheScenario(t *testing.T) {
	dir := t.TempDir()
	data, err := Files.ReadFile("sim-reply-blocked.yaml")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "  regions_ini: |")
	end := strings.Index(text, "  accounts:")
	require.True(t, start > 0 && end > start)
	ini := strings.ReplaceAll(text[start+len("  regions_ini: |\n"):end], "    ", "")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Regions.ini"), []byte(ini), 0o644))
	scen := text[:start] + "  regions_ini_file: Regions.ini\n" + text[end:]
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(scen), 0o644))

	s, err := Load(path)
	require.NoError(t, err)
	assert.Contains(t, s.Grid.RegionsINI, "[My Region]", "the file's text is the scenario's Regions.ini")

	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(scen, "Regions.ini", "Missing.ini", 1)), 0o644))
	_, err = Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "grid.regions_ini_file: cannot read "+filepath.Join(dir, "Missing.ini"))
	assert.NotContains(t, err.Error(), "grid.regions_ini: missing", "one problem, named once")
}
