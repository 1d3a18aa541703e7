package lab

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
)

// TestEachFailureGoesAwayWhenItsCauseIsFixed runs every bundled failure-mode scenario twice:
// as written, where the diagnosis names its mode for every viewer it hits and gives evidence and
// a fix; and with the one change its fix asks for, where that mode disappears. A diagnosis that
// did not follow the evidence would survive the fix.
func TestEachFailureGoesAwayWhenItsCauseIsFixed(t *testing.T) {
	ini := func(ext string) string {
		return "[My Region]\nRegionUUID = 4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d\nLocation = 1000,1000\nInternalPort = 9000\nExternalHostName = " + ext + "\n"
	}
	tests := []struct {
		mode     string
		fix      map[string]string // the operator's fix, as --set overrides
		evidence string            // what the example viewer's evidence must say (# is any number)
	}{
		{"login-host-unknown", map[string]string{"viewers.typo.login_uri": "http://grid.example.org:9000/"}, "The login URI's host name \"grid.exmaple.org\" did not resolve"},
		{"login-port-closed", map[string]string{"viewers.wrong-port.login_uri": "http://203.0.113.7:9000/"}, "The TCP connection to 203.0.113.7:9001 was refused at once (connect: connection refused)"},
		{"login-unreachable", map[string]string{"hosts.grid.firewall": "[]"}, "were dropped by rule 'no-login-port' on host grid"},
		{"login-reply-blocked", map[string]string{"hosts.grid.firewall": "[]"}, "but its # replies to the viewer were dropped by rule 'lockdown-out' on host grid"},
		{"bad-credentials", map[string]string{"viewers.home.valid_credentials": "1", "viewers.home.unknown_avatars": "0"}, "the password did not match"},
		{"region-host-wrong", map[string]string{"grid.regions_ini": ini("203.0.113.7")}, "ExternalHostName = 198.51.100.23); no machine has that address, so all 4 were dropped on network internet"},
		{"region-udp-blocked", map[string]string{"hosts.grid.firewall": "[{name: allow-login, dir: in, proto: tcp, ports: '9000', action: allow}, {name: allow-region, dir: in, proto: udp, ports: '9000', action: allow}, {name: default-deny-in, dir: in, action: drop}]"}, "the region received none: 4 were dropped by rule 'default-deny-in' on host grid"},
		{"nat-loopback-unsupported", map[string]string{"networks.office.router.hairpin": "true"}, "the router does not support NAT loopback (hairpin), so all 4 were dropped there"},
		{"one-to-one-nat-internal-address", map[string]string{"grid.regions_ini": ini("203.0.113.7")}, "ExternalHostName = SYSTEMIP, which is the region host's own, private address"},
		{"sim-reply-blocked", map[string]string{"hosts.grid.firewall": "[]"}, "UseCircuitCode sent 4 times to 203.0.113.7:9000; the region received all 4; its # replies to the viewer were dropped by rule 'block-sim-out' on host grid"},
		{"silent-circuit", map[string]string{"timeline": "[]"}, "the networks are partitioned"},
		{"login-storm", map[string]string{"grid.capacity.login_workers": "64"}, "it completes about 2.5 logins/s"},
		{"relogin-during-logout", map[string]string{"grid.capacity.logout_time": "0s"}, "while the region was still tearing that session down"},
		{"unknown-circuit-code", map[string]string{"timeline": "[]"}, "with unknown circuit code"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			sc := bundled(t, tt.mode+".yaml")
			run, err := Run(sc, Options{})
			require.NoError(t, err)
			hit := 0
			for _, v := range run.Viewers {
				if v.Outcome == tt.mode {
					hit++
					assert.NotEmpty(t, v.Evidence, "viewer %d: a diagnosis states its evidence", v.ID)
					assert.NotEmpty(t, v.Fix, "viewer %d: and the fix", v.ID)
				}
			}
			require.NotZero(t, hit, "as written, the scenario reproduces %s", tt.mode)
			ex := reports.Build(run).Failures
			require.NotEmpty(t, ex)
			re := regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(tt.evidence), "#", `\d+`))
			assert.Regexp(t, re, ex[0].Evidence, "the worked example's evidence names the cause")

			fixed := bundled(t, tt.mode+".yaml")
			for k, v := range tt.fix {
				require.NoError(t, fixed.Set(k, v))
			}
			require.NoError(t, fixed.Validate())
			after, err := Run(fixed, Options{})
			require.NoError(t, err)
			out := outcomes(after)
			assert.Zero(t, out[tt.mode], "after the fix (%s) no viewer is %s: %v", describe(tt.fix), tt.mode, out)
			assert.Equal(t, len(after.Viewers), out["success"], "after the fix every viewer logs in: %v", out)
		})
	}
}

func describe(set map[string]string) string {
	var parts []string
	for k, v := range set {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}
