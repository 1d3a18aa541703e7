package lab

import (
	"fmt"

	"gridlab/lab/circuit"
	"gridlab/lab/viewer"
	"gridlab/reports"
	"gridlab/sim"
)

// Unfinished is the outcome of a viewer still on its way in when the run's time ran out.
const Unfinished = "unfinished"

// ViewerRecord is a viewer's row of the report as the viewer itself saw it: stage times from its
// intended start, its outcome and message. A viewer still on its way in at now is Unfinished.
// The lab refines failed outcomes into failure modes; a real-socket load test keeps them.
func ViewerRecord(v *viewer.Viewer, now sim.Time) reports.Viewer {
	r := v.Result()
	cfg := v.Config()
	rv := reports.Viewer{
		ID: cfg.ID, Name: cfg.First + " " + cfg.Last, Profile: cfg.Profile.Name, Start: r.Start.Duration(),
	}
	for s := range rv.Stages {
		rv.Stages[s] = -1
		if r.Stages[s] >= 0 {
			rv.Stages[s] = r.Stages[s].Sub(r.Start)
		}
	}
	switch r.Outcome {
	case "":
		rv.Outcome, rv.Message = Unfinished, r.Status
		rv.EndedAt = now.Duration()
	case viewer.Success:
		rv.Outcome = viewer.Success
		rv.EndedAt = r.DecidedAt.Duration()
	default:
		rv.Outcome, rv.Message = r.Outcome, r.Message
		rv.EndedAt = r.DecidedAt.Duration()
	}
	return rv
}

func (w *world) results(seed uint64) *reports.Run {
	run := &reports.Run{
		Scenario:    w.sc.Name,
		Description: w.sc.Description,
		Seed:        seed,
		Events:      w.s.Events(),
		VirtualTime: w.s.Now().Duration(),
		TraceHash:   w.s.TraceHash(),
		Log:         w.log.all(),
		Timeline:    w.timeline,
	}
	var viewerCircuits circuit.Stats
	for i, v := range w.viewers {
		rv := ViewerRecord(v, w.s.Now())
		rv.Population, rv.Placement = w.pops[i], w.places[i]
		if r := v.Result(); r.Lost || (r.Outcome != "" && r.Outcome != viewer.Success) {
			d := w.diagnose(v)
			rv.Outcome, rv.Mode, rv.Evidence, rv.Fix = d.Mode, d.Mode, d.Evidence, d.Fix
			if r.Lost {
				rv.Message, rv.EndedAt = r.LostMessage, r.LostAt.Duration()
			}
		} else if r.Outcome == viewer.Success {
			if d, ok := w.diagnoseGrid(v); ok {
				rv.Mode, rv.Evidence, rv.Fix = d.Mode, d.Evidence, d.Fix
			} else if d, ok := w.reloginNote(v); ok {
				rv.Mode, rv.Evidence, rv.Fix = d.Mode, d.Evidence, d.Fix
			}
		}
		viewerCircuits.Add(v.CircuitStats())
		run.Viewers = append(run.Viewers, rv)
	}
	w.obs.finish()
	run.Samples = w.obs.samples
	run.Traces = w.obs.export(run.Viewers)
	counters := map[string]uint64{}
	for _, c := range w.net.Counters() {
		counters["net/"+c.Name] = c.Value
	}
	addCircuit := func(prefix string, s circuit.Stats) {
		counters[prefix+"packets_sent"] = s.PacketsSent
		counters[prefix+"packets_received"] = s.PacketsReceived
		counters[prefix+"bytes_sent"] = s.BytesSent
		counters[prefix+"bytes_received"] = s.BytesReceived
		counters[prefix+"reliable_sent"] = s.ReliableSent
		counters[prefix+"resent"] = s.Resent
		counters[prefix+"acks_sent"] = s.AcksSent
		counters[prefix+"acks_received"] = s.AcksReceived
		counters[prefix+"duplicates"] = s.Duplicates
		counters[prefix+"gave_up"] = s.GaveUp
	}
	addCircuit("viewers/circuit/", viewerCircuits)
	for _, rg := range w.regions {
		st := rg.Stats()
		p := fmt.Sprintf("region/%s/", rg.Name())
		counters[p+"use_circuit_code"] = st.UseCircuitCode
		counters[p+"use_circuit_code_repeated"] = st.Repeated
		counters[p+"unknown_circuits"] = st.UnknownCircuits
		counters[p+"orphan_packets"] = st.Orphans
		counters[p+"malformed"] = st.Malformed
		counters[p+"arrivals"] = st.Arrivals
		counters[p+"logouts"] = st.Logouts
		counters[p+"inactivity_disconnects"] = st.Timeouts
		counters[p+"agent_updates"] = st.AgentUpdates
		counters[p+"agents_connected_at_end"] = uint64(rg.Agents())
		addCircuit(p+"circuit/", st.Circuit)
	}
	w.capacityCounters(counters)
	run.Counters = append(run.Counters, reports.CountersOf(counters)...)
	run.Findings = append(w.findings(), w.regionFindings()...)
	run.Expectations = Evaluate(w.sc.Expect, run)
	return run
}
