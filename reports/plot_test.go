package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCDFGolden(t *testing.T) {
	// The login-to-world CDF of the small run matches testdata/cdf.golden.svg.
	path := filepath.Join(t.TempDir(), "cdf.svg")
	require.NoError(t, WriteCDF(smallRun(), path))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	golden(t, "cdf.golden.svg", got)
}

func TestPlotsDeterministic(t *testing.T) {
	// Writing the same plot twice gives byte-identical files, for SVG and PNG,
	// for both the CDF and the per-stage CDFs.
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		write func(*Run, string) error
		ext   string
	}{
		{"cdf-svg", WriteCDF, ".svg"},
		{"cdf-png", WriteCDF, ".png"},
		{"stages-svg", WriteStageCDFs, ".svg"},
		{"stages-png", WriteStageCDFs, ".png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := filepath.Join(dir, tc.name+"-a"+tc.ext), filepath.Join(dir, tc.name+"-b"+tc.ext)
			require.NoError(t, tc.write(smallRun(), a))
			require.NoError(t, tc.write(smallRun(), b))
			da, err := os.ReadFile(a)
			require.NoError(t, err)
			db, err := os.ReadFile(b)
			require.NoError(t, err)
			assert.NotEmpty(t, da)
			assert.True(t, string(da) == string(db), "two renders differ")
		})
	}
}

func TestCDFContent(t *testing.T) {
	// The CDF's title names the scenario and n (successful viewers only), and
	// the legend carries p50 and p99; an empty set draws a plot that says no
	// viewer reached AgentMovementComplete instead of failing.
	svg := func(r *Run, write func(*Run, string) error) string {
		path := filepath.Join(t.TempDir(), "p.svg")
		require.NoError(t, write(r, path))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	s := svg(smallRun(), WriteCDF)
	assert.Contains(t, s, "golden-small: login to AgentMovementComplete (n=4)")
	assert.Contains(t, s, "p50 = 1.200s")
	assert.Contains(t, s, "p99 = 3.400s")

	empty := smallRun()
	for i := range empty.Viewers {
		empty.Viewers[i].Outcome = "timeout"
	}
	s = svg(empty, WriteCDF)
	assert.Contains(t, s, "(n=0)")
	assert.Contains(t, s, emptyCDFText)

	s = svg(smallRun(), WriteStageCDFs)
	for _, want := range []string{"Login reply (n=6)", "UseCircuitCode ack (n=5)", "RegionHandshake (n=4)", "AgentMovementComplete (n=4)"} {
		assert.Contains(t, s, want, "stage legend entry")
	}
	s = svg(&Run{Scenario: "nothing"}, WriteStageCDFs)
	assert.Contains(t, s, "no viewer reached any login stage")
}

func TestCDFXYs(t *testing.T) {
	// The ECDF starts at (min, 0), ends at (max, 1), is non-decreasing in x
	// and y, collapses ties into one step and stays within maxCDFPoints+1
	// points for large inputs.
	tests := []struct {
		name    string
		in      []time.Duration
		wantLen int
	}{
		{"empty", nil, 0},
		{"one", []time.Duration{time.Second}, 2},
		{"ties", []time.Duration{time.Second, time.Second, 2 * time.Second}, 3},
		{"large", func() []time.Duration {
			ds := make([]time.Duration, 100_000)
			for i := range ds {
				ds[i] = time.Duration(i/3) * time.Microsecond // ties too
			}
			return ds
		}(), maxCDFPoints + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			xys := cdfXYs(tc.in)
			require.Len(t, xys, tc.wantLen)
			if len(xys) == 0 {
				return
			}
			assert.Equal(t, tc.in[0].Seconds(), xys[0].X)
			assert.Equal(t, 0.0, xys[0].Y)
			assert.Equal(t, tc.in[len(tc.in)-1].Seconds(), xys[len(xys)-1].X)
			assert.Equal(t, 1.0, xys[len(xys)-1].Y)
			for i := 1; i < len(xys); i++ {
				assert.GreaterOrEqual(t, xys[i].X, xys[i-1].X)
				assert.Greater(t, xys[i].Y, xys[i-1].Y)
			}
		})
	}
	assert.Equal(t, 2.0/3, cdfXYs([]time.Duration{time.Second, time.Second, 2 * time.Second})[1].Y,
		"a tie of two out of three is one step to 2/3")
}

func TestWriteRunFiles(t *testing.T) {
	// WriteRunFiles creates the folder (nested) and writes report.json, the
	// CDF and the stage CDFs; report.json is what WriteJSON writes.
	dir := filepath.Join(t.TempDir(), "a", "b")
	rep, err := WriteRunFiles(dir, smallRun())
	require.NoError(t, err)
	assert.Equal(t, Build(smallRun()), rep)
	for _, f := range []string{ReportFile, CDFFile, StageCDFsFile} {
		info, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, info.Size(), f)
	}
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	assert.Equal(t, string(reportJSON(t, smallRun())), string(data))
	svg, err := os.ReadFile(filepath.Join(dir, CDFFile))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(svg), "<?xml"), "cdf is an SVG")
}
