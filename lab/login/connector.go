package login

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/vhttp"
	"gridlab/netem"
)

// AgentTimeout is the simulation connector's timeout for QUERYACCESS and the agent POST.
const AgentTimeout = 30 * time.Second

// slowCall is WebUtil's LongCallTime: slower requests are logged.
const slowCall = 3 * time.Second

// Call is one request the connector made, for whoever watches the grid (the lab's diagnosis).
type Call struct {
	Agent      AgentCircuit
	Region     string
	Method     string // QUERYACCESS or POST
	URL        string
	Local      netip.AddrPort // the connection's local address, when the transport tells
	Start, End time.Duration  // on the connector's clock
	Status     int            // HTTP status, 0 without a response
	Err        error          // transport failure or timeout (nil when a response came)
	OK         bool           // the region accepted
	Reason     string         // the reason the login service takes from this call
}

// Connector is the login service's side of the regions' simulation service in grid mode
// (OpenSim's SimulationServiceConnector): one per login service, sharing the request counter.
type Connector struct {
	Client  *vhttp.Client
	Log     Logger
	Now     func() time.Duration // the clock for the slow-call log line and Call times; nil: 0
	Timeout time.Duration        // per request; 0 = AgentTimeout
	OnCall  func(Call)           // observes every request; nil: none
	reqnum  int
}

// Destination returns the Destination for region r (its ServerURI, ID, name and location).
func (c *Connector) Destination(r Region) Destination {
	uri := r.ServerURI
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return &remoteRegion{c: c, uri: uri, id: r.ID, name: r.Name, x: r.X, y: r.Y}
}

type remoteRegion struct {
	c    *Connector
	uri  string
	id   uuid.UUID
	name string
	x, y uint32
}

func (c *Connector) now() time.Duration {
	if c.Now == nil {
		return 0
	}
	return c.Now()
}

func (c *Connector) log() Logger {
	if c.Log == nil {
		return nopLogger{}
	}
	return c.Log
}

// transportMessage words a failed request as .NET's HttpClient does in modern OpenSim's WebUtil,
// so the login message is the one an OpenSim grid's users see.
func transportMessage(err error, timeout time.Duration, addr string) string {
	var te *vhttp.TimeoutError
	var se *vhttp.StatusError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("The request was canceled due to the configured HttpClient.Timeout of %g seconds elapsing.", timeout.Seconds())
	case errors.As(err, &se):
		return fmt.Sprintf("[%d] %s", se.Code, se.Error())
	case errors.Is(err, netem.ErrRefused):
		return fmt.Sprintf("[499] Connection refused (%s)", addr)
	case errors.Is(err, netem.ErrTimeout):
		return fmt.Sprintf("[499] Connection timed out (%s)", addr)
	case errors.Is(err, vhttp.ErrNotIP):
		return fmt.Sprintf("[499] Name or service not known (%s)", addr)
	}
	return "[499] An error occurred while sending the request."
}

// do sends one request and reports the body of a 2xx answer, or the failure message.
func (d *remoteRegion) do(ac AgentCircuit, method, uri string, body []byte, done func(call *Call, resp []byte, failure string)) {
	c := d.c
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = AgentTimeout
	}
	c.reqnum++
	n := c.reqnum
	start := c.now()
	u, err := url.Parse(uri)
	call := Call{Agent: ac, Region: d.name, Method: method, URL: uri, Start: start}
	finish := func(status int, rb []byte, err error) {
		call.End, call.Status, call.Err = c.now(), status, err
		took := call.End - start
		if took > slowCall {
			c.log().Logf("INFO", "[WEB UTIL]: SvcOSD %d %s %s took %dms, %d/%dbytes", n, method, uri, took.Milliseconds(), len(body), len(rb))
		}
		if err != nil {
			host := ""
			if u != nil {
				host = u.Host
			}
			msg := "Service request failed: " + transportMessage(err, timeout, host)
			// OpenSim logs this at DEBUG; it is the operator's clue, so gridlab keeps it visible.
			c.log().Logf("WARN", "[LOGHTTP]: request %d %s to %s FAILED: %s", n, method, uri, strings.TrimPrefix(msg, "Service request failed: "))
			done(&call, nil, msg)
			return
		}
		done(&call, rb, "")
	}
	if err != nil {
		finish(0, nil, vhttp.ErrNotIP)
		return
	}
	req := &http.Request{Method: method, URL: u, Host: u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}}
	conn := c.Client.Do(req, body, timeout, func(resp *http.Response, rb []byte, err error) {
		switch {
		case err != nil:
			finish(0, nil, err)
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			finish(resp.StatusCode, rb, &vhttp.StatusError{Code: resp.StatusCode})
		default:
			finish(resp.StatusCode, rb, nil)
		}
	})
	if la, ok := conn.(interface{ LocalAddr() netip.AddrPort }); ok {
		call.Local = la.LocalAddr()
	}
}

// report hands a finished call to the observer.
func (d *remoteRegion) report(call *Call, ok bool, reason string) {
	call.OK, call.Reason = ok, reason
	if d.c.OnCall != nil {
		d.c.OnCall(*call)
	}
}

// LaunchAgent is OpenSim's LaunchAgentDirectly over HTTP: QUERYACCESS, then the agent POST.
func (d *remoteRegion) LaunchAgent(ac AgentCircuit, done func(err error)) {
	c := d.c
	qa := d.uri + "agent/" + ac.AgentID.String() + "/" + d.id.String() + "/"
	d.do(ac, "QUERYACCESS", qa, EncodeQueryAccess(ac.StartPos), func(call *Call, rb []byte, failure string) {
		ok, reason := false, failure
		if failure == "" {
			r, err := DecodeAccessReply(bytes.TrimSpace(rb))
			switch {
			case err != nil:
				reason = "Communications failure"
			case !r.Success:
				reason = r.Reason
			case r.Inbound == 0 || r.Outbound == 0:
				reason = "Communications failure"
			default:
				ok = true
			}
			c.log().Logf("DEBUG", "[REMOTE SIMULATION CONNECTOR]: QueryAccess to %s returned %v, reason %s, version %g/%g", qa, r.Success, r.Reason, r.Inbound, r.Outbound)
		}
		d.report(call, ok, reason)
		if !ok {
			done(errors.New(reason))
			return
		}
		post := d.uri + "agent/" + ac.AgentID.String() + "/"
		body := EncodeAgentPost(AgentPost{Circuit: ac, DestX: d.x * 256, DestY: d.y * 256, DestName: d.name, DestID: d.id,
			TeleportFlags: TeleportViaLogin | TeleportViaRegionID})
		c.log().Logf("DEBUG", "[REMOTE SIMULATION CONNECTOR]: Creating agent at %s", d.uri)
		d.do(ac, "POST", post, body, func(call *Call, rb []byte, failure string) {
			ok, reason := false, failure
			if failure == "" {
				r, err := DecodeAgentReply(bytes.TrimSpace(rb))
				switch {
				case err != nil:
					reason = "error"
				case !r.Success:
					reason = r.Reason
				default:
					ok = true
				}
			}
			if !ok {
				c.log().Logf("WARN", "[REMOTE SIMULATION CONNECTOR]: Failed to create agent %s %s at remote simulator %s", ac.First, ac.Last, d.name)
			}
			d.report(call, ok, reason)
			if !ok {
				done(errors.New(reason))
				return
			}
			done(nil)
		})
	})
}
