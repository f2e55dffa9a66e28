package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/config"
)

// The default timeouts cut stuck connections well before the 95 s that
// outside testing saw, while a 10 MiB ping body still arrives on a
// 2 Mbit/s link and a body that arrived is always answered.
func TestDefaultHTTPTimeouts(t *testing.T) {
	d := defaultHTTPTimeouts
	if d.ReadHeader <= 0 || d.Read <= 0 || d.Write <= 0 || d.Idle <= 0 {
		t.Fatalf("a timeout is off: %+v", d)
	}
	if upload := time.Duration(10 << 20 * 8 / 2e6 * float64(time.Second)); d.Read < upload {
		t.Errorf("read timeout %v is shorter than a 10 MiB upload at 2 Mbit/s (%v)", d.Read, upload)
	}
	if d.Write < d.Read+10*time.Second {
		t.Errorf("write timeout %v leaves less than 10 s to answer a body read in %v", d.Write, d.Read)
	}
	if d.Write >= 90*time.Second || d.Idle >= 90*time.Second || d.ReadHeader > 15*time.Second {
		t.Errorf("stuck clients are held too long: %+v", d)
	}
}

// closedConns records the client addresses of the connections the server
// closed.
type closedConns struct {
	mu     sync.Mutex
	closed map[string]bool
	change chan struct{}
}

func newClosedConns() *closedConns {
	return &closedConns{closed: map[string]bool{}, change: make(chan struct{}, 1)}
}

func (c *closedConns) connState(conn net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	c.mu.Lock()
	c.closed[conn.RemoteAddr().String()] = true
	c.mu.Unlock()
	select {
	case c.change <- struct{}{}:
	default:
	}
}

// wait returns once the server closed every connection of clients, or
// fails the test after a minute: the timeouts under test are a second.
func (c *closedConns) wait(t *testing.T, clients map[string]string) {
	t.Helper()
	guard := time.After(time.Minute)
	for {
		c.mu.Lock()
		var open []string
		for addr, kind := range clients {
			if !c.closed[addr] {
				open = append(open, kind)
			}
		}
		c.mu.Unlock()
		if len(open) == 0 {
			return
		}
		select {
		case <-c.change:
		case <-guard:
			t.Fatalf("after a minute the server still holds %d connections: %v", len(open), open)
		}
	}
}

// Twenty clients that get stuck in every way a connection can (sending
// headers slowly, never sending the body they announced, never reading a
// large answer, keeping an answered connection open) lose their
// connections once the timeouts pass; a 10 MiB ping body still works.
func TestStuckClientsAreCut(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.PingBodyLimit = 10_000_000
	s := startServer(t, cfg) // production's timeouts
	id := s.api(t, "POST", "/api/v3/checks/", map[string]any{"name": "big output", "timeout": 3600})["uuid"].(string)
	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
	res, err := http.Post(s.base+"/ping/"+id, "text/plain", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(answer) != "OK" {
		t.Fatalf("10 MiB ping: %d %q", res.StatusCode, answer)
	}
	s.stop()

	short := httpTimeouts{ReadHeader: time.Second, Read: time.Second, Write: time.Second, Idle: time.Second}
	closed := newClosedConns()
	s = startServerWith(t, cfg, serveOptions{timeouts: short, connState: closed.connState})
	host := strings.TrimPrefix(s.base, "http://")
	requests := map[string]string{
		"slow headers":  "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n",
		"missing body":  "POST /ping/" + id + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 1000000\r\n\r\nonly this",
		"unread answer": "GET /api/v3/checks/" + id + "/pings/1/body HTTP/1.1\r\nHost: " + host + "\r\nX-Api-Key: " + s.key + "\r\n\r\n",
		"idle":          "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
	}
	clients := map[string]string{}
	for i := range 20 {
		kind := []string{"slow headers", "missing body", "unread answer", "idle"}[i%4]
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		_ = conn.(*net.TCPConn).SetReadBuffer(4096) // so the large answer cannot sit in buffers
		if _, err := io.WriteString(conn, requests[kind]); err != nil {
			t.Fatal(err)
		}
		clients[conn.LocalAddr().String()] = fmt.Sprintf("%s #%d", kind, i)
	}
	closed.wait(t, clients)
}
