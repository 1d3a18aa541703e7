package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withExpect is the bundled sim-reply-blocked scenario with its expect: block replaced; the
// block's first entry is on line 54.
func withExpect(t *testing.T, block string) (*Scenario, error) {
	t.Helper()
	data, err := Files.ReadFile("sim-reply-blocked.yaml")
	require.NoError(t, err)
	head, _, ok := strings.Cut(string(data), "\nexpect:\n")
	require.True(t, ok)
	head = strings.Join(strings.Split(head, "\n")[:52], "\n") // line 53 is "expect:"
	return Parse("s.yaml", []byte(head+"\nexpect:\n"+block))
}

func TestExpectParses(t *testing.T) {
	s, err := withExpect(t, `  - {outcome: success, count: 20}
  - {outcome: sim-reply-blocked, min: 1, max: 30}
  - {stage: movement_complete, threshold: "p(99.9) <= 5s"}
  - {rate: success, threshold: ">= 99%"}
  - {message: "We're having trouble connecting", outcome: sim-reply-blocked, after: 19s, before: 21s}
  - {log: "Ignoring a repeated UseCircuitCode", min: 1}
`)
	require.NoError(t, err)
	require.Len(t, s.Expect, 6)
	twenty, nineteen := 20, 19*time.Second
	assert.Equal(t, Expect{Outcome: "success", Count: &twenty}, s.Expect[0])
	assert.Equal(t, ExpectOutcome, s.Expect[1].Kind())
	assert.Equal(t, ExpectStage, s.Expect[2].Kind())
	assert.Equal(t, ExpectRate, s.Expect[3].Kind())
	assert.Equal(t, ExpectMessage, s.Expect[4].Kind())
	assert.Equal(t, &nineteen, s.Expect[4].After)
	assert.Equal(t, ExpectLog, s.Expect[5].Kind())

	st, err := ParseStageThreshold(s.Expect[2].Threshold)
	require.NoError(t, err)
	assert.Equal(t, StageThreshold{Stat: "p", P: 99.9, Op: "<=", Limit: 5 * time.Second}, st)
	assert.Equal(t, "p(99.9)", st.String())
	rt, err := ParseRateThreshold(s.Expect[3].Threshold)
	require.NoError(t, err)
	assert.Equal(t, RateThreshold{Op: ">=", Limit: 0.99}, rt)
	for _, ok := range []string{"max < 30s", "min>=1ms", "avg == 0s", "p(50)<1m"} {
		_, err := ParseStageThreshold(ok)
		assert.NoError(t, err, ok)
	}
}

func TestExpectErrors(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  []string
	}{
		{"a typo is named with a suggestion",
			"  - {outcome: success, cuont: 3}\n",
			[]string{
				`s.yaml:54: expect[0]: missing: give count, min or max`,
				`s.yaml:54: expect[0].cuont: unknown key "cuont" (did you mean "count"?)`,
			}},
		{"an entry needs a kind",
			"  - {min: 3}\n",
			[]string{`s.yaml:54: expect[0]: no kind: give one of outcome, stage, rate, message, log, diagnosis, counter`}},
		{"one kind per entry",
			"  - {stage: login_reply, log: x, threshold: max < 1s}\n",
			[]string{`s.yaml:54: expect[0]: stage and log in one entry: give one kind per entry`}},
		{"a count needs a bound, and count excludes min",
			"  - {outcome: success}\n  - {log: x, count: 1, min: 1}\n  - {outcome: success, min: 5, max: 2}\n",
			[]string{
				`s.yaml:54: expect[0]: missing: give count, min or max`,
				`s.yaml:55: expect[1].count: give count, or min and/or max, not both`,
				`s.yaml:56: expect[2].max: 2 is less than min (5)`,
			}},
		{"keys of another kind are named",
			"  - {stage: login_reply, threshold: max < 1s, min: 3}\n",
			[]string{`s.yaml:54: expect[0].min: does not apply to a stage expectation (it takes stage, threshold)`}},
		{"stage thresholds",
			"  - {stage: logged_in, threshold: \"p(99) < 5s\"}\n  - {stage: login_reply, threshold: \"p(75) < 5s\"}\n" +
				"  - {stage: login_reply, threshold: \"p(99) < 5\"}\n  - {stage: login_reply}\n  - {stage: login_reply, threshold: fast}\n",
			[]string{
				`s.yaml:54: expect[0].stage: "logged_in" is not a stage (stages: login_reply, circuit_ack, region_handshake, movement_complete, first_object_update)`,
				`s.yaml:55: expect[1].threshold: "p(75) < 5s": report.json has p(50), p(90), p(95), p(99) and p(99.9), not p(75)`,
				`s.yaml:56: expect[2].threshold: "p(99) < 5": "5" is a bare number, not a duration: give a unit (e.g. 5s)`,
				`s.yaml:57: expect[3].threshold: missing: e.g. threshold: "p(99) < 5s"`,
				`s.yaml:58: expect[4].threshold: "fast" has no comparison: write it as "p(99) < 5s" (p(N), min, max or avg; <, <=, >, >= or ==; a duration)`,
			}},
		{"rate thresholds and outcome ids",
			"  - {rate: Success, threshold: \"> 0.99\"}\n  - {rate: success, threshold: \"> 1.5\"}\n  - {rate: success, threshold: \"rate > 0.5\"}\n",
			[]string{
				`s.yaml:54: expect[0].rate: "Success" is not an outcome or failure-mode id (such as success or sim-reply-blocked; docs/SCENARIOS.md lists them)`,
				`s.yaml:55: expect[1].threshold: "> 1.5": 1.5 is out of range: a fraction is between 0 and 1 (for a percentage add %, e.g. 0.5%)`,
				`s.yaml:56: expect[2].threshold: "rate > 0.5": write it as "> 0.99" or ">= 99%"`,
			}},
		{"a misspelt failure mode is caught before the run",
			"  - {diagnosis: sim-reply-blokced, min: 1}\n  - {diagnosis: sim-reply-blocked}\n",
			[]string{
				`s.yaml:54: expect[0].diagnosis: "sim-reply-blokced" is not an outcome or failure-mode id (such as success or sim-reply-blocked; docs/SCENARIOS.md lists them)`,
				`s.yaml:55: expect[1]: missing: give count, min or max`,
			}},
		{"message windows",
			"  - {message: trouble}\n  - {message: trouble, outcome: lossy-path, after: 21s, before: 19s}\n  - {message: trouble, outcome: lossy-path, after: 20}\n",
			[]string{
				`s.yaml:54: expect[0].outcome: missing: the outcome of the viewers whose message is checked`,
				`s.yaml:55: expect[1].before: 19s is earlier than after (21s)`,
				`s.yaml:56: expect[2].after: 20 is a bare number, not a duration: give a unit (e.g. 20s)`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := withExpect(t, tc.block)
			require.Error(t, err)
			assert.Equal(t, strings.Join(tc.want, "\n"), err.Error())
		})
	}
}
