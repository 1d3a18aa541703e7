package lab

import "fmt"

// restartAction restarts a region's process: what it kept in memory (circuits, the circuits
// logins announced, agents) is gone, as when OpenSim is restarted.
func (w *world) restartAction(name string) (func() string, string, bool, error) {
	what := fmt.Sprintf("region %s restarts", name)
	return func() string {
		i := w.regionIndex(name)
		if i < 0 {
			return "no such region"
		}
		w.regions[i].Restart()
		return ""
	}, what, true, nil
}
