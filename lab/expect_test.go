package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
	"gridlab/scenarios"
)

func TestEveryBundledScenariosExpectationsHold(t *testing.T) {
	infos, err := scenarios.Bundled()
	require.NoError(t, err)
	for _, info := range infos {
		t.Run(info.Name, func(t *testing.T) {
			if largeScenario(info.Description) {
				t.Skip("a benchmark, not a test: its description says [large]")
			}
			sc := bundled(t, info.Name+".yaml")
			require.NotEmpty(t, sc.Expect, "every bundled scenario carries an expect: block")
			run, err := Run(sc, Options{})
			require.NoError(t, err)
			require.Len(t, run.Expectations, len(sc.Expect))
			for _, e := range run.Expectations {
				assert.True(t, e.Pass, "%s %s: observed %s", e.Name, e.Threshold, e.Observed)
			}
			assert.Equal(t, run.Expectations, reports.Build(run).Expectations, "report.json lists the verdicts")
		})
	}
}

// largeScenario reports whether a bundled scenario is a benchmark too big for go test
// (scale-100k: minutes and gigabytes): its description says [large]. Run those by hand.
func largeScenario(description string) bool { return strings.Contains(description, "[large]") }

func TestAWrongExpectationFailsWithTheObservedValue(t *testing.T) {
	sc := bundled(t, "standalone-basic.yaml")
	sc.Expect = []scenarios.Expect{
		{Stage: "movement_complete", Threshold: "p(99) < 1ms"},
		{Stage: "movement_complete", Threshold: "max < 1h"},
		{Outcome: "success", Count: ptr(19)},
		{Rate: "success", Threshold: "< 50%"},
		{Log: "no such log line", Min: ptr(1)},
		{Message: "Welcome", Outcome: "success"},
	}
	require.NoError(t, sc.Validate())
	run, err := Run(sc, Options{Viewers: 20})
	require.NoError(t, err)
	st := reports.Build(run).Stages[reports.StageMovementComplete]
	p99 := (time.Duration(st.P99MS*1000+0.5) * time.Microsecond).String()

	got := map[string]string{}
	for _, e := range run.Expectations {
		got[fmt.Sprintf("%s %s", e.Name, e.Threshold)] = fmt.Sprintf("%v %s", e.Pass, e.Observed)
	}
	assert.Equal(t, map[string]string{
		"p(99) of movement_complete < 1ms":                           "false " + p99,
		"max of movement_complete < 1h0m0s":                          "true " + (time.Duration(st.MaxMS*1000+0.5) * time.Microsecond).String(),
		"viewers with outcome success == 19":                         "false 20",
		"rate(success) < 50%":                                        "false 1 (20/20)",
		`grid log lines containing "no such log line" >= 1`:          "false 0",
		`message of success viewers contains "Welcome" every viewer`: "false 0 of 20 viewers; viewer 1 (Load Test1) saw \"\"",
	}, got)
}

func TestExpectationsOfARunWithoutTheDataFail(t *testing.T) {
	sc := bundled(t, "sim-reply-blocked.yaml")
	sc.Expect = []scenarios.Expect{
		{Stage: "movement_complete", Threshold: "p(99) < 5s"},
		{Message: "trouble", Outcome: "success"},
		{Message: "trouble", Outcome: "sim-reply-blocked", Before: ptr(10 * time.Second)},
	}
	run, err := Run(sc, Options{Viewers: 3})
	require.NoError(t, err)
	require.Len(t, run.Expectations, 3)
	assert.Equal(t, reports.Expectation{Name: "p(99) of movement_complete", Threshold: "< 5s", Observed: "no viewer reached movement_complete"}, run.Expectations[0])
	assert.Equal(t, "no viewer had outcome success", run.Expectations[1].Observed)
	assert.False(t, run.Expectations[2].Pass)
	assert.Regexp(t, `^0 of 3 viewers; viewer 1 \(Load Test1\) decided 2\d\.\d+s after its start$`, run.Expectations[2].Observed)
}

func TestStageIDsAreTheReportsStages(t *testing.T) {
	require.Len(t, scenarios.StageIDs, int(reports.NumStages))
	for s := range reports.NumStages {
		assert.Equal(t, s.String(), scenarios.StageIDs[s])
	}
}

func ptr[T any](v T) *T { return &v }
