// Package vhttp is HTTP/1.1 over any byte stream, written sans-IO.
//
// A transport (the virtual network's TCP model, or later a real socket driver) owns the
// connection and calls OnConnect, OnData and OnClose; the connection types here accumulate the
// bytes, parse them with net/http's own readers (http.ReadRequest, http.ReadResponse) and write
// with net/http's own writers ((*http.Request).Write, (*http.Response).Write) into a Stream.
// Nothing here blocks, starts a goroutine, reads a clock or draws randomness, so the same code is
// deterministic on the simulator and correct on real sockets.
//
// ServerConn serves sequential (keep-alive, pipelined) requests on one connection through a
// Handler whose reply may come later; ClientConn sends one request and reports one response.
package vhttp
