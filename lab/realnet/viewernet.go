package realnet

import (
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

// ListenUDP implements viewer.Network.
func (n ViewerNet) ListenUDP(recv func(from netip.AddrPort, b []byte)) (viewer.UDPSocket, error) {
	c, err := n.L.ListenUDP(netip.AddrPortFrom(n.Addr, 0), recv)
	if err != nil {
		return nil, err
	}
	return c, nil
}
