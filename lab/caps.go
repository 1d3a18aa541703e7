package lab

import (
	"net/http"
	"strings"

	"gridlab/lab/vhttp"
)

// standaloneHTTP is a standalone grid's one HTTP port: the regions' capabilities under /CAPS/
// (the seed capability and what it grants), everything else to the login service — as one
// OpenSim process serves both on its http_listener_port.
func (w *world) standaloneHTTP(login vhttp.Handler) vhttp.Handler {
	return vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
		if strings.HasPrefix(req.URL.Path, "/CAPS/") {
			for _, rg := range w.regions {
				if rg.OwnsPath(req.URL.Path) {
					rg.ServeVHTTP(req, body, reply)
					return
				}
			}
			reply(vhttp.Response{Status: http.StatusNotFound, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("Not Found\n")})
			return
		}
		login.ServeVHTTP(req, body, reply)
	})
}
