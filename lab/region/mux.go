package region

import (
	"net/http"
	"strings"

	"gridlab/lab/vhttp"
)

// WithCaps serves the regions' capabilities (/CAPS/...: the seed capability and what it grants)
// and hands every other request to next: a standalone grid's one HTTP port, where OpenSim serves
// the login service and the regions' capabilities together.
func WithCaps(regions []*Region, next vhttp.Handler) vhttp.Handler {
	return vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
		if !strings.HasPrefix(req.URL.Path, "/CAPS/") {
			next.ServeVHTTP(req, body, reply)
			return
		}
		for _, rg := range regions {
			if rg.OwnsPath(req.URL.Path) {
				rg.ServeVHTTP(req, body, reply)
				return
			}
		}
		reply(vhttp.Response{Status: http.StatusNotFound, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("Not Found\n")})
	})
}
