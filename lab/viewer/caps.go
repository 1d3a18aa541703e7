package viewer

import (
	"bytes"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"gridlab/lab/llsd"
	"gridlab/lab/vhttp"
)

// seedNames are the capabilities the viewer asks its seed capability for: the ones a
// login needs first (the SL viewer asks for about a hundred; the region grants those it has).
var seedNames = []string{"EventQueueGet", "FetchInventoryDescendents2", "SimulatorFeatures", "GetTexture"}

// seedBody is the seed request: an LLSD array of capability names.
var seedBody = func() []byte {
	w := llsd.NewWriter().BeginArray()
	for _, n := range seedNames {
		w.String(n)
	}
	return w.EndArray().Bytes()
}()

// fetchSeed POSTs the seed capability of the login reply, as viewers do while the circuit comes
// up; the region starts sending the world (ObjectUpdate) only once it has been asked. Only an IP
// literal in the capability's URL is dialled (regions give their ExternalHostName's address).
func (v *Viewer) fetchSeed() {
	u, err := url.Parse(v.reply.SeedCapability)
	if err != nil || u.Scheme != "http" {
		return
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return
	}
	port := uint64(80)
	if p := u.Port(); p != "" {
		if port, err = strconv.ParseUint(p, 10, 16); err != nil {
			return
		}
	}
	req, err := http.NewRequest(http.MethodPost, v.reply.SeedCapability, bytes.NewReader(seedBody))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/llsd+xml")
	p := &proxy{}
	v.seedConn = v.cfg.Net.DialTCP(netip.AddrPortFrom(ip, uint16(port)), p)
	p.h = vhttp.NewClientConn(v.seedConn, req, seedBody, func(resp *http.Response, _ []byte, err error) {
		if v.seedConn != nil {
			v.seedConn.Close()
			v.seedConn = nil
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			v.res.SeedGranted = v.now()
		}
	})
}
