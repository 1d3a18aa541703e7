package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"gridlab/lab/grid"
	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
	"gridlab/sim"
)

type nopLogger struct{}

func (nopLogger) Logf(string, string, ...any) {}

func newBenchGridCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "grid",
		Short: "Measure what a login and an inbound datagram cost our own grid code: defaults for grid.capacity",
		Long: `grid measures, on this machine, the work the capacity model (a scenario's grid.capacity)
stands for, with gridlab's own login service and region:

  login_time          one XML-RPC login_to_simulator handled by the login service, from the
                      request's bytes to the reply's (decode, authenticate, tell the region,
                      encode the ~15 KB reply), the region told in process;
  region_packet_time  one inbound AgentUpdate handled by a region on an established circuit
                      (decode, dedupe, ack bookkeeping, the agent's update).

It prints them and a grid.capacity block to paste into a scenario. They are lower bounds for a
real OpenSim grid, which also reads a database for each login: measure yours with gridlab load
and set login_time from the login-reply stage of an idle grid.`,
		Example: `  gridlab bench grid`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchGrid(cmd.OutOrStdout())
		},
	}
}

func runBenchGrid(out io.Writer) error {
	loginCost, err := benchLogin()
	if err != nil {
		return err
	}
	packetCost, err := benchRegionPacket()
	if err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	fmt.Fprintf(out, "login_time          %v per login (%.0f logins/s on one core)\n", loginCost.Round(time.Microsecond), float64(time.Second)/float64(loginCost))
	fmt.Fprintf(out, "region_packet_time  %v per inbound AgentUpdate (%.0f packets/s on one core)\n", packetCost.Round(10*time.Nanosecond), float64(time.Second)/float64(packetCost))
	fmt.Fprintf(out, "\n# grid.capacity for a grid like this machine running gridlab's code (%d cores):\n", workers)
	fmt.Fprintf(out, "capacity:\n  login_workers: %d\n  login_time: %s\n  region_packet_time: %s\n  region_udp_buffer: 1024\n",
		workers, yamlDuration(loginCost.Round(time.Microsecond)), yamlDuration(packetCost.Round(10*time.Nanosecond)))
	return nil
}

// yamlDuration writes d as a scenario file takes it, with "us" for microseconds.
func yamlDuration(d time.Duration) string { return strings.ReplaceAll(d.String(), "µ", "u") }

// benchLogin times one login through the login service with an in-process region.
func benchLogin() (time.Duration, error) {
	ids := rand.New(rand.NewPCG(1, 2))
	accounts := grid.NewAccounts()
	if _, err := accounts.Add("Bench", "User", "secret", ids); err != nil {
		return 0, err
	}
	rg := region.New(region.Config{Name: "Bench", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000,
		Clock: sim.New(1), Log: nopLogger{}})
	svc, err := login.New(login.Config{
		Accounts: accounts, IDs: ids, Log: nopLogger{}, GridName: "bench", GridNick: "bench",
		LoginURI: "http://127.0.0.1:9000/",
		Regions: []login.Region{{Name: "Bench", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000,
			SimIP: netip.MustParseAddr("127.0.0.1"), SimPort: 9000, ServerURI: "http://127.0.0.1:9000/", Dest: rg, Default: true}},
	})
	if err != nil {
		return 0, err
	}
	body, err := login.EncodeRequest(login.Request{First: "Bench", Last: "User", Passwd: login.HashPassword("secret"),
		Start: "last", Channel: "gridlab", Version: "0.1.0", Platform: "Lnx", Mac: fmt.Sprintf("%032x", 1), ID0: fmt.Sprintf("%032x", 1)})
	if err != nil {
		return 0, err
	}
	ok := true
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9000/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "text/xml")
			req.RemoteAddr = "198.51.100.7:40000"
			svc.ServeVHTTP(req, body, func(r vhttp.Response) { ok = ok && r.Status == http.StatusOK })
		}
	})
	if !ok || res.N == 0 {
		return 0, fmt.Errorf("bench grid: the login service did not answer 200 OK")
	}
	return time.Duration(res.NsPerOp()), nil
}

// benchRegionPacket times one inbound AgentUpdate on an established circuit.
func benchRegionPacket() (time.Duration, error) {
	rg := region.New(region.Config{Name: "Bench", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000,
		Clock: sim.New(1), Log: nopLogger{}, Send: func(netip.AddrPort, []byte) {}})
	ac := login.AgentCircuit{AgentID: uuid.MustParse("11111111-2222-3333-4444-555555555555"),
		SessionID: uuid.MustParse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), CircuitCode: 123456789,
		First: "Bench", Last: "User", StartPos: [3]float32{128, 128, 25}}
	if err := rg.ExpectAgent(ac); err != nil {
		return 0, err
	}
	ep := netip.MustParseAddrPort("198.51.100.7:40000")
	seq := uint32(1)
	rg.Receive(ep, lludp.Encode(nil, lludp.FlagReliable, seq, &lludp.UseCircuitCode{Code: ac.CircuitCode, SessionID: ac.SessionID, AgentID: ac.AgentID}, nil))
	seq++
	rg.Receive(ep, lludp.Encode(nil, lludp.FlagReliable, seq, &lludp.CompleteAgentMovement{AgentID: ac.AgentID, SessionID: ac.SessionID, CircuitCode: ac.CircuitCode}, nil))
	if rg.Agents() != 1 {
		return 0, fmt.Errorf("bench grid: the region did not take the circuit")
	}
	au := &lludp.AgentUpdate{AgentID: ac.AgentID, SessionID: ac.SessionID, CameraCenter: [3]float32{128, 128, 25}, CameraAtAxis: [3]float32{1, 0, 0}, Far: 64}
	// Encoded once; each datagram only gets the next sequence number (bytes 1-4 of the header,
	// big-endian), so the figure is the region's work alone.
	buf := lludp.Encode(nil, 0, seq+1, au, nil)
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			seq++
			binary.BigEndian.PutUint32(buf[1:5], seq)
			rg.Receive(ep, buf)
		}
	})
	if res.N == 0 {
		return 0, fmt.Errorf("bench grid: no measurement")
	}
	return time.Duration(res.NsPerOp()), nil
}
