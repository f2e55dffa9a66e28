package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// blockProxy is the HTTP proxy that the browser sends every request to
// that is not for the loopback. It answers each with 403 and records the
// host, so a test can see that a page wanted something from outside (a
// font, a script from a CDN) instead of hanging on it.
type blockProxy struct {
	ln  net.Listener
	srv *http.Server

	mu       sync.Mutex
	blocked  []string // hosts that pages asked for
	internal []string // hosts of the browser's own services
}

// browserServices are hosts that Chromium calls by itself, whatever the
// page does, even with background networking off: sign-in's account list
// and on-demand component downloads. They are refused like everything
// else, but they are not the page's doing, so BlockedRequests leaves them
// out.
var browserServices = []string{
	"accounts.google.com",
	"update.googleapis.com",
	"clients2.google.com",
	"content-autofill.googleapis.com",
	"optimizationguide-pa.googleapis.com",
}

func startBlockProxy() (*blockProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &blockProxy{ln: ln}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.refuse),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *blockProxy) addr() string { return p.ln.Addr().String() }

// refuse answers a proxied request (GET http://host/...) or a tunnel
// (CONNECT host:443) with 403. The browser shows the text for a plain HTTP
// request and fails a tunnel with ERR_TUNNEL_CONNECTION_FAILED.
func (p *blockProxy) refuse(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	list := &p.blocked
	if slices.Contains(browserServices, hostname(host)) {
		list = &p.internal
	}
	p.mu.Lock()
	if !slices.Contains(*list, host) {
		*list = append(*list, host)
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "browsertest: the test browser may only reach the loopback; refused %s %s\n", r.Method, host)
}

// hostname is host without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// hosts returns the hosts that pages asked for, in the order of the first
// request.
func (p *blockProxy) hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.blocked)
}

// browserHosts returns the hosts of the browser's own services that it
// tried to reach.
func (p *blockProxy) browserHosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.internal)
}

func (p *blockProxy) close() { p.srv.Close() }
