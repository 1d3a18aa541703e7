package lab

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"gridlab/lab/login"
	"gridlab/lab/viewer"
)

// Presence in the simulated grid: the login service refuses an avatar that is still online
// (OpenSim with AllowDuplicatePresences = false) and the regions clear presence when an agent
// leaves — after the region's teardown, grid.capacity.logout_time, as OpenSim tears down the
// scene presence, saves attachments and only then tells the presence service
// (shared/seeds/opensim-wiki-logout-process.txt).

// wirePresence makes every region report leaving agents to the login service's presence.
func (w *world) wirePresence(svc *login.Service) {
	w.presence = svc
	delay := w.sc.Grid.Capacity.LogoutTime
	for _, rg := range w.regions {
		rg.SetOnLeave(func(ac login.AgentCircuit, why string) {
			if delay <= 0 {
				svc.LogoutAgent(ac.AgentID, ac.SessionID)
				return
			}
			w.s.After(delay, "grid/presence-logout", func() { svc.LogoutAgent(ac.AgentID, ac.SessionID) })
		})
	}
}

// kick removes an avatar found online by a new login from whichever region has it.
func (w *world) kick(agent uuid.UUID) {
	for _, rg := range w.regions {
		rg.Kick(agent, "new login detected")
	}
}

// diagnoseRelogin explains a login refused because the avatar's previous session was still
// being torn down: relogin-during-logout. ok is false for any other refusal.
func (w *world) diagnoseRelogin(v *viewer.Viewer) (diagnosis, bool) {
	r := v.Result()
	i := w.obs.viewerIndex(v)
	if r.Outcome != viewer.LoginFailed || !strings.Contains(r.Message, "already logged in") || i < 0 {
		return diagnosis{}, false
	}
	prev := w.previousSession(i)
	ev := fmt.Sprintf("The login service answered %q: the avatar was still online.", strings.TrimSpace(r.Message))
	if prev != nil {
		ended := "ended"
		if prev.Result().LoggedOut {
			ended = "logged out"
		}
		ev = fmt.Sprintf("The avatar's previous session %s at %s; this login came %s later, while the region was still tearing that session down (it tells presence %s after the logout), so the login service answered %q and cleared the stale presence.",
			ended, secs(w.ended[prev].Duration()), secs(r.Start.Sub(w.ended[prev])), secs(w.sc.Grid.Capacity.LogoutTime), strings.TrimSpace(r.Message))
	}
	return diagnosis{Mode: "relogin-during-logout", Evidence: ev,
		Fix: "Wait a little before logging in again: the next attempt succeeds once the logout is processed (the login service cleared the old presence). Operators: a slow logout teardown (attachments, scripts) makes this window longer."}, true
}

// previousSession is the session before viewer i of the same avatar, if any.
func (w *world) previousSession(i int) *viewer.Viewer {
	if w.sessions[i] <= 1 {
		return nil
	}
	for j := i - 1; j >= 0; j-- {
		if w.firstID[j] == w.firstID[i] && w.sessions[j] == w.sessions[i]-1 {
			return w.viewers[j]
		}
	}
	return nil
}

// reloginNote marks a successful session whose previous attempt was refused as
// relogin-during-logout: the login was delayed, and succeeded.
func (w *world) reloginNote(v *viewer.Viewer) (diagnosis, bool) {
	i := w.obs.viewerIndex(v)
	if i < 0 {
		return diagnosis{}, false
	}
	prev := w.previousSession(i)
	if prev == nil {
		return diagnosis{}, false
	}
	if _, ok := w.diagnoseRelogin(prev); !ok {
		return diagnosis{}, false
	}
	first := prev
	for j := w.obs.viewerIndex(prev); j >= 0; {
		p := w.previousSession(j)
		if p == nil {
			break
		}
		if _, ok := w.diagnoseRelogin(p); !ok {
			break
		}
		first, j = p, w.obs.viewerIndex(p)
	}
	return diagnosis{Mode: "relogin-during-logout",
		Evidence: fmt.Sprintf("Logged in at %s, %s after the first attempt was refused as already logged in: the old session's logout had been processed by then.",
			secs(v.Result().Stages[viewer.StageMovementComplete].Duration()), secs(v.Result().Start.Sub(first.Result().Start))),
		Fix: "Nothing: the login was delayed, not lost."}, true
}
