package storagetest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Gate is a TCP proxy to a database server that a test can close, as an
// outage would: closing it cuts every connection through it and refuses
// new ones (they are accepted and closed at once, as the port of a
// restarting server is), until it opens again. Point a backend's URL at
// Addr.
type Gate struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]bool
}

// NewGate starts a proxy on 127.0.0.1 to target (host:port), open, and
// stops it when the test ends.
func NewGate(t testing.TB, target string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		g.SetClosed(true)
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.handle(c)
		}
	}()
	return g
}

// Addr is the proxy's address, host:port.
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// SetClosed closes the gate, cutting every connection, or opens it.
func (g *Gate) SetClosed(closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = closed
	if closed {
		for c := range g.conns {
			c.Close()
		}
		clear(g.conns)
	}
}

// track registers connections, or reports that the gate is closed.
func (g *Gate) track(cs ...net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	for _, c := range cs {
		g.conns[c] = true
	}
	return true
}

func (g *Gate) handle(client net.Conn) {
	defer client.Close()
	if !g.track(client) {
		return
	}
	server, err := net.Dial("tcp", g.target)
	if err != nil {
		return
	}
	defer server.Close()
	if !g.track(server) {
		return
	}
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	_, _ = io.Copy(client, server)
}
