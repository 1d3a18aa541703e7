package reports

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Shard is one part of a distributed run, e.g. the run folder of one `gridlab load --shard`.
type Shard struct {
	Name string // for messages, e.g. the folder
	Run  *Run
	// Offset is when the shard's time 0 was on the merged run's clock (its wall-clock start
	// minus the earliest shard's).
	Offset time.Duration
}

// Merge combines shards into one run. Viewers are concatenated (their IDs must be disjoint)
// with their start and end times moved onto the merged clock; stage times are durations from
// each viewer's own intended start and are kept as they are. Build then computes the merged
// stage percentiles from every viewer's stage times: the HDR histogram of the union, which
// has exactly the counts of the shards' histograms merged bucket by bucket, since every shard
// records the same microsecond values into the same buckets. Percentiles are never averaged.
//
// Counters with the same name are summed; events are summed; the time series is resampled
// every second on the merged clock (cumulative columns carry a finished shard's last value,
// open circuits count only shards still running); timelines and traces are shifted and
// concatenated. Expectations are dropped: verdicts on one shard say nothing about the whole;
// evaluate them again on the result.
func Merge(shards []Shard) (*Run, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("reports: merge: no runs")
	}
	out := &Run{Scenario: shards[0].Run.Scenario}
	var names []string
	owner := map[int]string{}
	counters := map[string]uint64{}
	for _, sh := range shards {
		r := sh.Run
		if sh.Offset < 0 {
			return nil, fmt.Errorf("reports: merge: %s: negative offset %v", sh.Name, sh.Offset)
		}
		names = append(names, sh.Name)
		for _, v := range r.Viewers {
			if o, dup := owner[v.ID]; dup {
				return nil, fmt.Errorf("reports: merge: viewer %d is in both %s and %s: shards must have disjoint viewer IDs", v.ID, o, sh.Name)
			}
			owner[v.ID] = sh.Name
			v.Start += sh.Offset
			v.EndedAt += sh.Offset
			out.Viewers = append(out.Viewers, v)
		}
		out.Events += r.Events
		out.VirtualTime = max(out.VirtualTime, sh.Offset+r.VirtualTime)
		for _, c := range r.Counters {
			counters[c.Name] += c.Value
		}
		for _, e := range r.Timeline {
			out.Timeline = append(out.Timeline, TimelineEvent{At: e.At + sh.Offset, What: e.What})
		}
		for _, tr := range r.Traces {
			tr.Events = slices.Clone(tr.Events)
			for i := range tr.Events {
				tr.Events[i].At += sh.Offset
				if tr.Events[i].RecvAt != 0 {
					tr.Events[i].RecvAt += sh.Offset
				}
			}
			out.Traces = append(out.Traces, tr)
		}
	}
	out.Description = fmt.Sprintf("merged from %d runs: %s", len(shards), strings.Join(names, ", "))
	if d := shards[0].Run.Description; d != "" {
		out.Description = d + "; " + out.Description
	}
	slices.SortStableFunc(out.Viewers, func(a, b Viewer) int { return a.ID - b.ID })
	slices.SortStableFunc(out.Timeline, func(a, b TimelineEvent) int { return int(a.At - b.At) })
	slices.SortStableFunc(out.Traces, func(a, b ViewerTrace) int { return a.ViewerID - b.ViewerID })
	cn := make([]string, 0, len(counters))
	for n := range counters {
		cn = append(cn, n)
	}
	slices.Sort(cn)
	for _, n := range cn {
		out.Counters = append(out.Counters, Counter{Name: n, Value: counters[n]})
	}
	out.Samples = mergeSamples(shards)
	return out, nil
}

// mergeSamples resamples the shards' time series every second on the merged clock.
func mergeSamples(shards []Shard) []Sample {
	var end time.Duration
	have := false
	for _, sh := range shards {
		if n := len(sh.Run.Samples); n > 0 {
			end = max(end, sh.Offset+sh.Run.Samples[n-1].At)
			have = true
		}
	}
	if !have {
		return nil
	}
	var out []Sample
	idx := make([]int, len(shards)) // per shard: samples at or before t
	for t := time.Second; ; t += time.Second {
		last := t >= end
		if last {
			t = end
		}
		s := Sample{At: t}
		for i, sh := range shards {
			ss := sh.Run.Samples
			for idx[i] < len(ss) && ss[idx[i]].At+sh.Offset <= t {
				idx[i]++
			}
			if idx[i] == 0 {
				continue // not started yet
			}
			p := ss[idx[i]-1]
			s.Decided += p.Decided
			s.InWorld += p.InWorld
			s.Failed += p.Failed
			s.UDPSent += p.UDPSent
			s.UDPDeliv += p.UDPDeliv
			s.UDPLost += p.UDPLost
			s.Drops += p.Drops
			s.Resends += p.Resends
			if idx[i] < len(ss) || t-(p.At+sh.Offset) < time.Second {
				s.Circuits += p.Circuits // still running
			}
		}
		out = append(out, s)
		if last {
			return out
		}
	}
}
