package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gridlab/lab"
	"gridlab/reports"
	"gridlab/scenarios"
)

// File names in a sweep folder.
const (
	IndexFile  = "sweep.json"       // the sweep's results (Index)
	ShardFile  = "sweep-shard.json" // the spec and the runs one process made (Manifest)
	RecordFile = "sweep-run.json"   // in each run folder: what the index needs of the run (Record)
)

// SchemaVersion is sweep.json's schema version. 2: the knee has a rule (first_break or
// first_hold), and a resource sweep's knee is the least value that holds. 3: viewers that never
// reached the threshold's stage count in its statistic as slower than any that did (a point's
// stat_ms is null when they decide it, never_reached counts them); the spec records the --set
// overrides and the scenario's fingerprint.
const SchemaVersion = 3

// Spec is what a sweep runs; every shard of a sweep has the same Spec.
type Spec struct {
	Scenario string `json:"scenario"`
	// Sets are the --set overrides applied to the scenario at every point, in the order given.
	Sets []string `json:"sets"`
	// Fingerprint identifies the scenario as run before the swept parameter is set (the file
	// with the overrides applied): Fingerprint of it. Shards whose fingerprints differ ran
	// different scenarios under one name, and do not merge.
	Fingerprint string     `json:"fingerprint"`
	Param       Param      `json:"param"`
	Seeds       []uint64   `json:"seeds"`
	Threshold   *Threshold `json:"threshold"` // nil: no knee is looked for
}

// Fingerprint is "sha256:" and the hex SHA-256 of sc written as a scenario file
// (scenarios.Marshal: only the scenario's content, not its comments or layout), its seed left
// out — a sweep gives every run its own seed. Equal scenarios have equal fingerprints on every
// machine.
func Fingerprint(sc *scenarios.Scenario) (string, error) {
	c := *sc
	c.Seed = 0
	data, err := scenarios.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("sweep: fingerprint of %s: %w", sc.Name, err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Threshold is what "broken" means: Stat of the Stage times, pooled over a point's seeds,
// fails "Stat Op Limit" (scenarios.StageThreshold's form, e.g. p(99) < 10s).
type Threshold struct {
	Stage   string  `json:"stage"`
	Stat    string  `json:"stat"` // "p(99)", "max", "min" or "avg"
	Op      string  `json:"op"`
	LimitMS float64 `json:"limit_ms"`
	Source  string  `json:"source"` // "expect" (the scenario's) or "flag"
}

// String renders the threshold as a scenario writes it, e.g. "movement_complete p(99) < 10s".
func (t *Threshold) String() string {
	return fmt.Sprintf("%s %s %s %v", t.Stage, t.Stat, t.Op, time.Duration(t.LimitMS*float64(time.Millisecond)))
}

// NewThreshold builds a threshold: from flag ("p(99) < 10s", or just "10s" for p(99) below it,
// on movement_complete) when it is not empty, else from the scenario's first stage expectation
// that is a limit — "<" or "<=", preferring one on movement_complete. It returns nil when
// neither gives one.
//
// A threshold is the time the grid must stay under, so only an upper bound can be one. A
// scenario's lower bounds ("max > 60s": the login queue must show) say what a reproduction has
// to show, not where the grid breaks; taken as thresholds they would call every healthy point
// broken. A flag that is not an upper bound is refused.
func NewThreshold(sc *scenarios.Scenario, flag string) (*Threshold, error) {
	if flag = strings.TrimSpace(flag); flag != "" {
		if !strings.ContainsAny(flag, "<>=") {
			flag = "p(99) < " + flag
		}
		st, err := scenarios.ParseStageThreshold(flag)
		if err != nil {
			return nil, fmt.Errorf("--threshold: %v", err)
		}
		if !isLimit(st.Op) {
			return nil, fmt.Errorf("--threshold %q: a threshold is the time the grid must stay under: use < or <=, e.g. \"p(99) < 10s\"", flag)
		}
		return newThreshold("movement_complete", st, "flag"), nil
	}
	var (
		pick   *scenarios.Expect
		pickST scenarios.StageThreshold
	)
	for i := range sc.Expect {
		e := &sc.Expect[i]
		if e.Kind() != scenarios.ExpectStage {
			continue
		}
		st, err := scenarios.ParseStageThreshold(e.Threshold)
		if err != nil {
			return nil, fmt.Errorf("the scenario's expectation on %s: %v", e.Stage, err)
		}
		if !isLimit(st.Op) {
			continue
		}
		if pick == nil || (e.Stage == "movement_complete" && pick.Stage != "movement_complete") {
			pick, pickST = e, st
		}
	}
	if pick == nil {
		return nil, nil
	}
	return newThreshold(pick.Stage, pickST, "expect"), nil
}

// isLimit reports whether a threshold's comparison bounds the time from above.
func isLimit(op string) bool { return op == "<" || op == "<=" }

func newThreshold(stage string, st scenarios.StageThreshold, source string) *Threshold {
	return &Threshold{Stage: stage, Stat: st.String(), Op: st.Op, LimitMS: msOf(st.Limit), Source: source}
}

// NewSpec builds the spec of a sweep of sc: param as ParseParam reads it, seeds seeds from
// seedBase on (sc's seed when nil), the threshold as NewThreshold makes it. sc is the scenario
// as load returns it — with the --set overrides sets already applied, before the parameter is
// set — and its Fingerprint goes into the spec with sets. Every point's scenario is checked
// (Set and Validate) before anything runs.
func NewSpec(sc *scenarios.Scenario, load func() (*scenarios.Scenario, error), sets []string, param string, points, seeds int, seedBase *uint64, threshold string) (Spec, error) {
	p, err := ParseParam(param, points)
	if err != nil {
		return Spec{}, err
	}
	if seeds < 1 {
		return Spec{}, fmt.Errorf("--seeds %d: need at least 1", seeds)
	}
	base := sc.Seed
	if seedBase != nil {
		base = *seedBase
	}
	if last := uint64(seeds - 1); base > math.MaxUint64-last {
		return Spec{}, fmt.Errorf("--seed %d with --seeds %d: the seeds would run past %d, the largest seed; give a --seed of at most %d", base, seeds, uint64(math.MaxUint64), uint64(math.MaxUint64)-last)
	}
	sp := Spec{Scenario: sc.Name, Sets: append([]string{}, sets...), Param: p}
	if sp.Fingerprint, err = Fingerprint(sc); err != nil {
		return Spec{}, err
	}
	for k := range seeds {
		sp.Seeds = append(sp.Seeds, base+uint64(k))
	}
	if sp.Threshold, err = NewThreshold(sc, threshold); err != nil {
		return Spec{}, err
	}
	for i := range p.Values {
		if _, err := pointScenario(load, p, i); err != nil {
			return Spec{}, err
		}
	}
	return sp, nil
}

// pointScenario loads a fresh scenario and sets the parameter to point i's value.
func pointScenario(load func() (*scenarios.Scenario, error), p Param, i int) (*scenarios.Scenario, error) {
	sc, err := load()
	if err != nil {
		return nil, err
	}
	if err := sc.Set(p.Path, p.Values[i]); err != nil {
		return nil, fmt.Errorf("point %d (%s=%s): %w", i, p.Path, p.Values[i], err)
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("point %d (%s=%s): %w", i, p.Path, p.Values[i], err)
	}
	return sc, nil
}

// Shard is one share of a sweep's runs: pairs q with q % N == I. The zero value (and {0, 1})
// is the whole sweep.
type Shard struct{ I, N int }

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, max(s.N, 1)) }

// Config is one sweep process.
type Config struct {
	Spec  Spec
	Load  func() (*scenarios.Scenario, error) // a fresh copy of the scenario, every call
	Out   string
	Jobs  int   // parallel runs; 0 = runtime.NumCPU()
	Shard Shard // the zero value runs everything
	// Log receives a line per finished run (with its wall time: terminal output only, never in
	// the files). nil = silent.
	Log io.Writer
}

// Record is what the index keeps of one run (RecordFile in the run's folder).
type Record struct {
	Point     int                   `json:"point"`
	Value     string                `json:"value"`
	Seed      uint64                `json:"seed"`
	Dir       string                `json:"dir"` // the run folder, relative to the sweep folder
	TraceHash string                `json:"trace_hash"`
	Events    uint64                `json:"events"`
	Viewers   int                   `json:"viewers"`
	Success   int                   `json:"success"`
	Outcomes  map[string]int        `json:"outcomes"`
	Expect    []reports.Expectation `json:"expectations"`
	InWorldUS []int64               `json:"in_world_us"` // time to movement_complete of every viewer that got there, sorted
	// StageUS are the threshold stage's times when that stage is not movement_complete, sorted.
	StageUS []int64 `json:"stage_us,omitempty"`
}

// Manifest is ShardFile: the spec, which share of it this folder holds, and its run folders.
type Manifest struct {
	Spec  Spec     `json:"spec"`
	Shard string   `json:"shard"`
	Runs  []string `json:"runs"`
}

type pair struct {
	point int
	seed  uint64
}

// RunDir names the folder of point i's run with seed.
func RunDir(i int, seed uint64) string { return fmt.Sprintf("point-%02d-seed-%d", i, seed) }

// Run runs the configured share of the sweep, writes each run's folder and the manifest, and,
// when it ran the whole sweep, the index. Runs go in parallel (Jobs at a time); the files do
// not depend on the order they finish in.
func Run(cfg Config) error {
	sp := cfg.Spec
	sh := cfg.Shard
	if sh.N == 0 {
		sh.N = 1
	}
	var todo []pair
	q := 0
	for i := range sp.Param.Values {
		for _, seed := range sp.Seeds {
			if q%sh.N == sh.I {
				todo = append(todo, pair{i, seed})
			}
			q++
		}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	records := make([]*Record, len(todo))
	errs := make([]error, len(todo))
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	next := make(chan int)
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				start := time.Now()
				records[k], errs[k] = runOne(cfg, todo[k])
				mu.Lock()
				done++
				if cfg.Log != nil {
					logRun(cfg.Log, done, len(todo), sp, todo[k], records[k], errs[k], time.Since(start))
				}
				mu.Unlock()
			}
		}()
	}
	for k := range todo {
		next <- k
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m := Manifest{Spec: sp, Shard: sh.String()}
	for _, r := range records {
		m.Runs = append(m.Runs, r.Dir)
	}
	if err := writeJSON(filepath.Join(cfg.Out, ShardFile), m); err != nil {
		return err
	}
	if sh.N > 1 {
		return nil
	}
	return WriteIndex(cfg.Out, sp, records)
}

func logRun(w io.Writer, done, total int, sp Spec, p pair, r *Record, err error, wall time.Duration) {
	head := fmt.Sprintf("[%d/%d] %s=%s seed %d", done, total, sp.Param.Path, sp.Param.Values[p.point], p.seed)
	if err != nil {
		fmt.Fprintf(w, "%s: %v\n", head, err)
		return
	}
	p99 := "-"
	if len(r.InWorldUS) > 0 {
		p99 = fmtMS(msOf(time.Duration(percentileUS(r.InWorldUS, 99)) * time.Microsecond))
	}
	fmt.Fprintf(w, "%s: %d/%d in world, p99 %s (%s wall)\n", head, r.Success, r.Viewers, p99, wall.Round(time.Millisecond))
}

// runOne runs one (point, seed) pair and writes its folder.
func runOne(cfg Config, p pair) (*Record, error) {
	sp := cfg.Spec
	sc, err := pointScenario(cfg.Load, sp.Param, p.point)
	if err != nil {
		return nil, err
	}
	seed := p.seed
	run, err := lab.Run(sc, lab.Options{Seed: &seed})
	if err != nil {
		return nil, fmt.Errorf("%s=%s seed %d: %w", sp.Param.Path, sp.Param.Values[p.point], seed, err)
	}
	dir := RunDir(p.point, seed)
	if _, err := reports.WriteRunFiles(filepath.Join(cfg.Out, dir), run); err != nil {
		return nil, err
	}
	r := record(sp, p, dir, run)
	if err := writeJSON(filepath.Join(cfg.Out, dir, RecordFile), r); err != nil {
		return nil, err
	}
	return r, nil
}

// record extracts what the index needs of a run.
func record(sp Spec, p pair, dir string, run *reports.Run) *Record {
	rep := reports.Build(run)
	r := &Record{
		Point: p.point, Value: sp.Param.Values[p.point], Seed: p.seed, Dir: dir,
		TraceHash: rep.TraceHash, Events: run.Events,
		Viewers: rep.Viewers.Total, Success: rep.Viewers.Success, Outcomes: rep.Outcomes,
		Expect: rep.Expectations, InWorldUS: []int64{},
	}
	stage := -1
	if t := sp.Threshold; t != nil && t.Stage != reports.StageMovementComplete.String() {
		stage = slices.Index(scenarios.StageIDs, t.Stage)
		r.StageUS = []int64{}
	}
	for _, v := range run.Viewers {
		if d := v.Stages[reports.StageMovementComplete]; d >= 0 {
			r.InWorldUS = append(r.InWorldUS, us(d))
		}
		if stage >= 0 {
			if d := v.Stages[stage]; d >= 0 {
				r.StageUS = append(r.StageUS, us(d))
			}
		}
	}
	slices.Sort(r.InWorldUS)
	slices.Sort(r.StageUS)
	return r
}

func us(d time.Duration) int64 { return int64((d + time.Microsecond/2) / time.Microsecond) }

func msOf(d time.Duration) float64 { return float64(us(d)) / 1000 }

func fmtMS(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Millisecond).String()
}

// writeJSON writes v indented, with a final newline.
func writeJSON(path string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // a threshold's "<" as it is, not \u003c
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("sweep: encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("sweep: %s: %w", path, err)
	}
	return nil
}
