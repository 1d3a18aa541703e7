package explore

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"gridlab/lab"
	"gridlab/scenarios"
)

// eventBudget stops a run that dispatches this many events: a generated scenario takes tens of
// thousands, so a run that gets here is stuck in a loop (itself a finding).
const eventBudget = 20_000_000

// Finding is a seed whose run broke an invariant, failed or panicked.
type Finding struct {
	Seed      uint64
	Violation *lab.Violation // the invariant broken; nil when the run failed otherwise
	Err       error          // the run's error or panic when there is no violation
}

// Kind names what was found: the invariant's name, "run-error" or "panic".
func (f Finding) Kind() string {
	switch {
	case f.Violation != nil:
		return f.Violation.Invariant
	case f.Err != nil && strings.HasPrefix(f.Err.Error(), "panic: "):
		return "panic"
	}
	return "run-error"
}

// Signature groups findings that are probably one bug: the invariant and the first words of the
// detail, with every word holding a digit (times, IDs, names like Region1) replaced by "#".
func (f Finding) Signature() string {
	if f.Violation == nil {
		return f.Kind()
	}
	return Signature(f.Violation)
}

// Signature is the signature of a violation (see Finding.Signature).
func Signature(v *lab.Violation) string {
	words := strings.Fields(v.Detail)
	words = words[:min(len(words), 6)]
	for i, w := range words {
		if strings.ContainsAny(w, "0123456789") {
			words[i] = "#"
		}
	}
	return v.Invariant + ": " + strings.Join(words, " ")
}

// String is the one line printed per finding.
func (f Finding) String() string {
	if f.Violation != nil {
		return fmt.Sprintf("seed %d: %s at %s: %s", f.Seed, f.Violation.Invariant, f.Violation.At, f.Violation.Detail)
	}
	msg, _, _ := strings.Cut(f.Err.Error(), "\n")
	return fmt.Sprintf("seed %d: %s: %s", f.Seed, f.Kind(), msg)
}

// Config is one exploration.
type Config struct {
	From  uint64 // first seed
	Seeds uint64 // how many seeds, From to From+Seeds-1
	Jobs  int    // runs at once; 0 = every core
	// TimeLimit stops handing out seeds after this much wall time (0 = none); the runs under way
	// finish.
	TimeLimit time.Duration
	// Progress, if set, is called after each run from one goroutine at a time.
	Progress func(done, total uint64, found int)
	// Found, if set, is called for each finding as it is found, from one goroutine at a time.
	Found func(Finding)
}

// Summary is what an exploration did.
type Summary struct {
	Ran      uint64        // seeds run
	Events   uint64        // events dispatched over all runs
	Wall     time.Duration // wall time of the whole exploration
	Findings []Finding     // by seed
}

// Explore runs the seeds of cfg on cfg.Jobs goroutines, each run single-threaded and
// independent, and returns the findings by seed.
func Explore(cfg Config) Summary {
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	seeds := make(chan uint64)
	type result struct {
		f      *Finding
		events uint64
	}
	results := make(chan result)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				f, events := RunSeed(seed)
				results <- result{f, events}
			}
		}()
	}
	go func() {
		defer close(seeds)
		for i := range cfg.Seeds {
			if cfg.TimeLimit > 0 && time.Since(start) > cfg.TimeLimit {
				return
			}
			seeds <- cfg.From + i
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var sum Summary
	for r := range results {
		sum.Ran++
		sum.Events += r.events
		if r.f != nil {
			sum.Findings = append(sum.Findings, *r.f)
			if cfg.Found != nil {
				cfg.Found(*r.f)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(sum.Ran, cfg.Seeds, len(sum.Findings))
		}
	}
	sort.Slice(sum.Findings, func(i, j int) bool { return sum.Findings[i].Seed < sum.Findings[j].Seed })
	sum.Wall = time.Since(start)
	return sum
}

// RunSeed generates and runs the scenario of seed with the invariants on. It returns a finding,
// or nil when the run kept every invariant, and the events the run dispatched.
func RunSeed(seed uint64) (*Finding, uint64) {
	sc, err := Written(seed)
	if err != nil {
		return &Finding{Seed: seed, Err: err}, 0
	}
	v, events, err := Check(sc)
	switch {
	case v != nil:
		return &Finding{Seed: seed, Violation: v}, events
	case err != nil:
		return &Finding{Seed: seed, Err: err}, events
	}
	return nil, events
}

// Written returns the scenario of seed as its file reads: generated, written with
// scenarios.Marshal and parsed back, so that what explore runs is exactly what the YAML it
// writes replays.
func Written(seed uint64) (*scenarios.Scenario, error) {
	sc, err := Generate(seed)
	if err != nil {
		return nil, err
	}
	data, err := scenarios.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("explore: seed %d: %w", seed, err)
	}
	back, err := scenarios.Parse(sc.Name+".yaml", data)
	if err != nil {
		return nil, fmt.Errorf("explore: seed %d: the written scenario does not parse back: %w", seed, err)
	}
	return back, nil
}

// Check runs sc with the invariants on: the violation, if one was found, or the run's error
// (a panic becomes an error starting "panic: ", with its stack).
func Check(sc *scenarios.Scenario) (v *lab.Violation, events uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	if sc.Budget == 0 {
		c := *sc // the scenario as written stays unchanged
		c.Budget = eventBudget
		sc = &c
	}
	run, err := lab.Run(sc, lab.Options{Invariants: true})
	if run != nil {
		events = run.Events
	}
	if errors.As(err, &v) {
		return v, events, nil
	}
	return nil, events, err
}
