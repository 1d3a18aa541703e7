package lab

import (
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
)

// standaloneHTTP is a standalone grid's one HTTP port: the regions' capabilities under /CAPS/
// (the seed capability and what it grants), everything else to the login service — as one
// OpenSim process serves both on its http_listener_port.
func (w *world) standaloneHTTP(login vhttp.Handler) vhttp.Handler {
	return region.WithCaps(w.regions, login)
}
