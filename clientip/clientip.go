// Package clientip finds who sent a request: the connection's peer or,
// when that peer is a trusted reverse proxy, the address the proxies saw.
// The ping log records it and login throttling keys on it, so both agree
// on who a client is, behind proxies as well as without them.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses, believing X-Forwarded-For only from the
// proxies in Trusted. The zero Resolver trusts no proxy.
type Resolver struct {
	Trusted []netip.Prefix
}

// Addr returns the client's address: the connection's peer or, when the
// peer is a trusted proxy, the nearest X-Forwarded-For entry that is not
// one (the first entry when all are). Entries a client wrote before the
// proxies' own are never reached, so a client cannot choose its address.
// When the chain holds something that is not an address the peer is
// returned, and when the peer itself is not an IP address (a Unix socket)
// its text is.
func (res Resolver) Addr(r *http.Request) string {
	peer, ok := parse(r.RemoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if !res.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parse(hops[i])
		if !ok {
			return peer.String()
		}
		if !res.trusted(a) || i == 0 {
			return a.String()
		}
	}
	return peer.String()
}

// Network returns what a rate limit should count as one client: the
// address itself for IPv4, and its /64 for IPv6, since one host is commonly
// given a whole /64 and can use any address in it. Text that is not an
// address is returned as it is.
func Network(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() {
		return addr
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func (res Resolver) trusted(a netip.Addr) bool {
	for _, p := range res.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parse reads an address with or without a port (some proxies add the
// client's port), without a zone, IPv4-mapped IPv6 addresses as IPv4.
func parse(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}
