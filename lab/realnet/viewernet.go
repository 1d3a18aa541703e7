package realnet

import (
	"context"
	"net"
	"net/netip"

	"gridlab/lab/viewer"
)

// ViewerNet gives lab/viewer's synthetic viewers real sockets: TCP dials and UDP sockets
// bound to Addr (port 0). Its methods run on the loop, like the viewer's.
type ViewerNet struct {
	L    *Loop
	Addr netip.Addr
}

// DialTCP implements viewer.Network.
func (n ViewerNet) DialTCP(to netip.AddrPort, h viewer.StreamHandler) viewer.Conn {
	return n.L.DialTCP(to, h)
}

// Resolve implements viewer.Network with the system resolver; the lookup runs on its own
// goroutine and its answer is handed to the loop, like a socket's.
func (n ViewerNet) Resolve(name string, cb func([]netip.Addr, error)) {
	go func() {
		addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", name)
		n.L.Post(func() { cb(addrs, err) })
	}()
}

// ListenUDP implements viewer.Network.
func (n ViewerNet) ListenUDP(recv func(from netip.AddrPort, b []byte)) (viewer.UDPSocket, error) {
	c, err := n.L.ListenUDP(netip.AddrPortFrom(n.Addr, 0), recv)
	if err != nil {
		return nil, err
	}
	return c, nil
}
