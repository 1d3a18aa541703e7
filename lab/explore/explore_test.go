package explore

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"gridlab/scenarios"
)

// Every generated scenario must be valid, survive being written and read back (the shrinker and
// the YAML it writes rely on it), and depend only on its seed.
func TestGeneratedScenariosAreValidAndDependOnlyOnTheSeed(t *testing.T) {
	n := uint64(10000) // as many as the long exploration
	if testing.Short() {
		n = 300
	}
	seen := map[string]uint64{}
	for seed := range n {
		sc, err := Generate(seed)
		if err != nil {
			t.Fatalf("seed %d: Validate must accept every generated scenario: %v", seed, err)
		}
		data, err := scenarios.Marshal(sc)
		if err != nil {
			t.Fatalf("seed %d: Marshal: %v", seed, err)
		}
		if _, err := scenarios.Parse("gen.yaml", data); err != nil {
			t.Fatalf("seed %d: the written scenario must parse back: %v\n%s", seed, err, data)
		}
		again, _ := Generate(seed)
		if data2, _ := scenarios.Marshal(again); !bytes.Equal(data, data2) {
			t.Fatalf("seed %d: generating twice must give the same scenario", seed)
		}
		body := string(data[bytes.Index(data, []byte("duration:")):]) // without the seed-named header
		if prev, dup := seen[body]; dup {
			t.Fatalf("seeds %d and %d generated the same scenario", prev, seed)
		}
		seen[body] = seed
	}
}

// The generator must reach every fault and every profile the issue lists.
func TestGeneratedScenariosCoverTheFaults(t *testing.T) {
	want := []string{"partition:", "heal:", "host_down:", "host_up:", "flush_nat:", "restart_region:", "restart_login:", "send_udp:",
		"add_rule:", "remove_rule:", "link:", "loss:", "loss_model:", "duplicate:", "reorder:", "corrupt:",
		"profile: sl-viewer", "profile: libremetaverse", "profile: node-metaverse", "relogin:", "home_nat: true",
		"mode: grid", "mode: standalone", "nat_type: symmetric", "firewall:", "process: poisson", "process: burst"}
	var all strings.Builder
	for seed := range uint64(500) {
		sc, err := Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := scenarios.Marshal(sc)
		all.Write(data)
	}
	for _, w := range want {
		if !strings.Contains(all.String(), w) {
			t.Errorf("500 seeds never generated %q", w)
		}
	}
}

// knownBugs are the signatures of bugs an exploration found and that are not fixed yet, each
// with its repro in testdata. The CI exploration tolerates them until they are fixed; anything
// else fails it. (Bugs 1-4 of docs/TESTING.md are fixed: their repros are in fixedRepros.)
var knownBugs = []struct {
	signature string // Finding.Signature
	repro     string // testdata file that shows it
}{}

// CI: a few hundred seeds (a few dozen under -short) run with the invariants on; a finding other
// than the known bugs fails the test with its seed.
func TestExploreFindsNoNewBug(t *testing.T) {
	seeds := uint64(400)
	if testing.Short() {
		seeds = 30
	}
	known := map[string]bool{}
	for _, k := range knownBugs {
		known[k.signature] = true
	}
	sum := Explore(Config{From: 0, Seeds: seeds})
	if sum.Ran != seeds {
		t.Fatalf("ran %d of %d seeds", sum.Ran, seeds)
	}
	t.Logf("%d seeds in %s (%d events), %d findings", sum.Ran, sum.Wall, sum.Events, len(sum.Findings))
	for _, f := range sum.Findings {
		if !known[f.Signature()] {
			t.Errorf("new finding (replay: gridlab explore --seeds 1 --from %d): %s", f.Seed, f)
		}
	}
}

// Each known bug's minimal scenario still breaks its invariant, exactly as written. When a fix
// lands, its repro passes: move it to fixedRepros so that it guards against the bug's return.
func TestReprosShowTheirBug(t *testing.T) {
	for _, k := range knownBugs {
		sc, err := scenarios.Load(filepath.Join("testdata", k.repro))
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := Check(sc)
		switch {
		case err != nil:
			t.Errorf("%s: the run failed: %v", k.repro, err)
		case v == nil:
			t.Errorf("%s: no longer breaks %q — fixed? move it to fixedRepros", k.repro, k.signature)
		case Signature(v) != k.signature:
			t.Errorf("%s: want %q, got %v", k.repro, k.signature, v)
		}
	}
}

// fixedRepros are repros of bugs since fixed: they must keep every invariant.
var fixedRepros = []string{
	"presence-after-region-restart.yaml",     // bug 1
	"expected-circuit-after-lost-reply.yaml", // bug 2
	"relogin-expected-circuits-pile-up.yaml", // bug 2
	"disable-simulator-before-outcome.yaml",  // bug 3
	"nat-rebinding-keeps-dead-circuit.yaml",  // bug 4
	"nat-rebinding-crossed-circuits.yaml",    // bug 4
}

func TestFixedReprosKeepTheInvariants(t *testing.T) {
	for _, name := range fixedRepros {
		sc, err := scenarios.Load(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if v, _, err := Check(sc); v != nil || err != nil {
			t.Errorf("%s: the fixed bug is back: %v %v", name, v, err)
		}
	}
}

// Shrinking keeps the violation's signature, makes the scenario smaller, and writes YAML that
// replays to the same violation.
func TestShrinkGivesASmallerScenarioThatReplays(t *testing.T) {
	seed, ok := firstViolation(t, 0, 300)
	if !ok {
		t.Skip("no seed of 0..299 breaks an invariant any more: nothing to shrink")
	}
	sc, err := Written(seed)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := Check(sc)
	sh, err := Shrink(sc, Signature(v))
	if err != nil {
		t.Fatal(err)
	}
	if Signature(sh.Violation) != Signature(v) {
		t.Errorf("the shrunk scenario should break %q, got %v", Signature(v), sh.Violation)
	}
	size := func(s *scenarios.Scenario) int {
		n := len(s.Timeline) + len(s.Networks) + len(s.Hosts)
		for _, p := range s.Viewers {
			n += p.Count
		}
		return n
	}
	if size(sh.Scenario) >= size(sc) || len(sh.Removed) == 0 {
		t.Errorf("shrinking should remove something: %d → %d (removed %v)", size(sc), size(sh.Scenario), sh.Removed)
	}
	back, err := scenarios.Parse("shrunk.yaml", sh.YAML)
	if err != nil {
		t.Fatalf("the shrunk YAML must parse: %v", err)
	}
	rv, _, _ := Check(back)
	if rv == nil || rv.Error() != sh.Violation.Error() {
		t.Errorf("the shrunk YAML should replay to %v, got %v", sh.Violation, rv)
	}
}

// firstViolation returns the first seed in [from, from+n) whose run breaks an invariant.
func firstViolation(t *testing.T, from, n uint64) (uint64, bool) {
	t.Helper()
	for seed := from; seed < from+n; seed++ {
		if f, _ := RunSeed(seed); f != nil && f.Violation != nil {
			return seed, true
		}
	}
	return 0, false
}

// A scenario that keeps every invariant cannot be shrunk: Shrink says so.
func TestShrinkRefusesAPassingScenario(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		sc, _ := Written(seed)
		if v, _, err := Check(sc); v == nil && err == nil {
			if _, err := Shrink(sc, "no-leak: anything"); err == nil {
				t.Fatalf("seed %d keeps the invariants; Shrink should fail", seed)
			}
			return
		}
	}
	t.Skip("no passing seed among the first 50")
}

// The worker pool changes nothing: one job and two give the same findings.
func TestExploreIsTheSameOnOneOrManyJobs(t *testing.T) {
	a := Explore(Config{From: 90, Seeds: 20, Jobs: 1})
	b := Explore(Config{From: 90, Seeds: 20, Jobs: 2})
	if a.Events != b.Events || len(a.Findings) != len(b.Findings) {
		t.Fatalf("1 job: %d events %d findings; 2 jobs: %d events %d findings", a.Events, len(a.Findings), b.Events, len(b.Findings))
	}
	for i := range a.Findings {
		if a.Findings[i].String() != b.Findings[i].String() {
			t.Errorf("finding %d differs: %s / %s", i, a.Findings[i], b.Findings[i])
		}
	}
}
