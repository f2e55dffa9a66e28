// Package netguard keeps Nightjar's outbound connections away from internal
// networks. It sits under the delivery stage of the flow (signals →
// evaluation → alerts → incidents → delivery), and under probes that fetch
// user-supplied URLs: those URLs come from users, so without a guard a
// webhook could be aimed at the cloud metadata service, the database or an
// admin port on the host running Nightjar (server-side request forgery).
//
// The check runs on the address a socket actually connects to, inside the
// dialer, not on the host name in a URL: a name that resolves to a public
// address when validated and to 127.0.0.1 when dialled (DNS rebinding) is
// still refused, and so is every redirect target.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Names of the settings that relax the guard, as operators see them in
// Nightjar's configuration. Errors quote them so an operator who hits the
// guard on purpose learns how to lift it.
const (
	// SettingAllowPrivate corresponds to Policy.AllowPrivate.
	SettingAllowPrivate = "allow_private_networks"
	// SettingAllowCIDRs corresponds to Policy.AllowCIDRs.
	SettingAllowCIDRs = "allowed_cidrs"
)

// MaxRedirects is how many redirects HTTPClient follows. A webhook receiver
// has no reason to bounce a delivery around more, and a long chain is more
// likely a loop or an attempt to walk the guard.
const MaxRedirects = 5

// ErrBlocked is matched by errors.Is for every destination the policy
// refuses, so callers can tell a refused destination (a configuration
// problem, not worth retrying) from a network failure.
var ErrBlocked = errors.New("destination blocked by outbound network policy")

// ErrRedirect is matched by errors.Is when HTTPClient refuses to follow a
// redirect (too many, or to a scheme other than http and https). Like
// ErrBlocked it points at a configuration problem rather than an outage.
var ErrRedirect = errors.New("redirect not followed")

// Policy decides which IP addresses outbound connections may reach. The zero
// value is the safe default: public unicast addresses only.
type Policy struct {
	// AllowPrivate lets connections reach loopback, private (RFC 1918 and
	// unique local), link-local and carrier-grade NAT addresses. Self-hosted
	// installations set it when their receivers live on the same network.
	AllowPrivate bool
	// AllowCIDRs lists prefixes that are always reachable, whatever their
	// kind. It is the narrow alternative to AllowPrivate: allow one
	// internal subnet instead of all of them.
	AllowCIDRs []netip.Prefix
}

// Kind names a class of address the guard refuses by default. It appears in
// error messages and lets callers react to specific classes.
type Kind string

// Address classes refused by default. Those marked private are lifted by
// AllowPrivate; the rest are never legitimate destinations for a request
// and can only be reached through AllowCIDRs.
const (
	KindInvalid       Kind = "invalid"
	KindUnspecified   Kind = "unspecified"
	KindThisNetwork   Kind = "\"this network\""
	KindLoopback      Kind = "loopback"       // private
	KindPrivate       Kind = "private"        // private
	KindUniqueLocal   Kind = "unique local"   // private
	KindLinkLocal     Kind = "link-local"     // private
	KindSharedCGNAT   Kind = "shared (CGNAT)" // private
	KindMulticast     Kind = "multicast"
	KindBroadcast     Kind = "broadcast"
	KindReserved      Kind = "reserved"
	KindDocumentation Kind = "documentation"
	KindBenchmarking  Kind = "benchmarking"
	KindSpecial       Kind = "special-purpose"
)

// Private reports whether AllowPrivate lifts the block on this kind.
func (k Kind) Private() bool {
	switch k {
	case KindLoopback, KindPrivate, KindUniqueLocal, KindLinkLocal, KindSharedCGNAT:
		return true
	}
	return false
}

// BlockedError says which address was refused and why, and names the setting
// that would allow it. It matches ErrBlocked.
type BlockedError struct {
	// IP is the refused address as it was checked.
	IP netip.Addr
	// Kind is the class of address that caused the refusal.
	Kind Kind
	// Via, when set, is the address IP was embedded in (an IPv4-mapped,
	// NAT64, 6to4 or Teredo IPv6 address), so the message shows both.
	Via netip.Addr
}

// Error explains the refusal and how to allow the destination.
func (e *BlockedError) Error() string {
	dest := e.IP.String()
	if e.Via.IsValid() {
		dest = fmt.Sprintf("%s (embedded in %s)", e.IP, e.Via)
	}
	if e.Kind == KindInvalid {
		return "destination address is invalid"
	}
	article := "a"
	switch e.Kind[0] {
	case 'a', 'e', 'i', 'o', 'u':
		article = "an"
	}
	if e.Kind.Private() {
		return fmt.Sprintf("destination %s is %s %s address; allow it with %s or %s",
			dest, article, e.Kind, SettingAllowPrivate, SettingAllowCIDRs)
	}
	return fmt.Sprintf("destination %s is %s %s address; allow it with %s",
		dest, article, e.Kind, SettingAllowCIDRs)
}

// Is makes errors.Is(err, ErrBlocked) true for every BlockedError.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

type rangeKind struct {
	prefix netip.Prefix
	kind   Kind
}

// blocked lists the special-purpose ranges refused by default, following the
// IANA IPv4 and IPv6 special-purpose address registries (ranges marked not
// globally reachable) plus multicast and the reserved IPv4 class E space.
// Order matters only where ranges nest: the first match wins.
var blocked = func() []rangeKind {
	table := []struct {
		cidr string
		kind Kind
	}{
		// IPv4.
		{"0.0.0.0/32", KindUnspecified},
		{"0.0.0.0/8", KindThisNetwork},
		{"10.0.0.0/8", KindPrivate},
		{"100.64.0.0/10", KindSharedCGNAT},
		{"127.0.0.0/8", KindLoopback},
		{"169.254.0.0/16", KindLinkLocal},
		{"172.16.0.0/12", KindPrivate},
		{"192.0.0.0/24", KindSpecial}, // IETF protocol assignments
		{"192.0.2.0/24", KindDocumentation},
		{"192.88.99.0/24", KindReserved}, // former 6to4 relay anycast
		{"192.168.0.0/16", KindPrivate},
		{"198.18.0.0/15", KindBenchmarking},
		{"198.51.100.0/24", KindDocumentation},
		{"203.0.113.0/24", KindDocumentation},
		{"224.0.0.0/4", KindMulticast},
		{"255.255.255.255/32", KindBroadcast},
		{"240.0.0.0/4", KindReserved},
		// IPv6. IPv4-mapped, NAT64, 6to4 and Teredo addresses are checked
		// through the IPv4 address they embed before this table is used.
		{"::/128", KindUnspecified},
		{"::1/128", KindLoopback},
		{"::/96", KindReserved}, // deprecated IPv4-compatible addresses
		{"64:ff9b:1::/48", KindSpecial},
		{"100::/64", KindSpecial}, // discard-only
		{"2001::/23", KindSpecial},
		{"2001:db8::/32", KindDocumentation},
		{"3fff::/20", KindDocumentation},
		{"fc00::/7", KindUniqueLocal},
		{"fe80::/10", KindLinkLocal},
		{"fec0::/10", KindReserved}, // deprecated site-local
		{"ff00::/8", KindMulticast},
	}
	out := make([]rangeKind, len(table))
	for i, r := range table {
		out[i] = rangeKind{prefix: netip.MustParsePrefix(r.cidr), kind: r.kind}
	}
	return out
}()

var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredoPrefix = netip.MustParsePrefix("2001::/32")
)

// Check reports whether ip may be connected to, returning a *BlockedError
// (matching ErrBlocked) when it may not. Addresses in AllowCIDRs are always
// allowed; otherwise loopback, private, unique local, link-local and CGNAT
// addresses are refused unless AllowPrivate is set, and unspecified,
// multicast, broadcast, reserved, documentation and other special-purpose
// addresses are refused outright. IPv6 addresses that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4, Teredo) are judged by that IPv4 address too, so
// ::ffff:127.0.0.1 is as loopback as 127.0.0.1.
func (p Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &BlockedError{Kind: KindInvalid}
	}
	ip = ip.WithZone("")
	if p.allowedCIDR(ip) {
		return nil
	}
	if ip.Is4In6() {
		return p.checkOne(ip.Unmap(), ip)
	}
	if ip.Is6() {
		for _, v4 := range embeddedIPv4(ip) {
			if p.allowedCIDR(v4) {
				continue
			}
			if err := p.checkOne(v4, ip); err != nil {
				return err
			}
		}
	}
	return p.checkOne(ip, netip.Addr{})
}

func (p Policy) checkOne(ip, via netip.Addr) error {
	if p.allowedCIDR(ip) {
		return nil
	}
	for _, r := range blocked {
		if r.prefix.Contains(ip) {
			if p.AllowPrivate && r.kind.Private() {
				return nil
			}
			return &BlockedError{IP: ip, Kind: r.kind, Via: via}
		}
	}
	return nil
}

func (p Policy) allowedCIDR(ip netip.Addr) bool {
	for _, pfx := range p.AllowCIDRs {
		// Accept IPv4 prefixes written in IPv4-mapped IPv6 form as well.
		if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
		}
		if pfx.Contains(ip) || (ip.Is4In6() && pfx.Contains(ip.Unmap())) {
			return true
		}
	}
	return false
}

// embeddedIPv4 returns the IPv4 addresses an IPv6 address carries through a
// translation or tunnelling scheme that could deliver the connection to
// that IPv4 address.
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[12:16]))}
	case sixToFour.Contains(ip):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}
	case teredoPrefix.Contains(ip):
		server := netip.AddrFrom4([4]byte(b[4:8]))
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []netip.Addr{server, client}
	}
	return nil
}

// Dialer returns a copy of base whose connections are checked against the
// policy. The check runs in the dialer's control hook, after name resolution
// and just before the socket connects, on the address actually being
// connected to; this is what defeats DNS rebinding. When a name resolves to
// several addresses, refused ones fail and the dialer moves on to the next.
// A control hook already set on base still runs, after the check. A nil base
// gets the same timeouts as net/http's default transport.
func (p Policy) Dialer(base *net.Dialer) *net.Dialer {
	var d net.Dialer
	if base != nil {
		d = *base
	} else {
		d = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	}
	prevCtx, prev := d.ControlContext, d.Control
	d.Control = nil
	d.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := p.checkDial(network, address); err != nil {
			return err
		}
		switch {
		case prevCtx != nil:
			return prevCtx(ctx, network, address, c)
		case prev != nil:
			return prev(network, address, c)
		}
		return nil
	}
	return &d
}

func (p Policy) checkDial(network, address string) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return fmt.Errorf("network %q is not allowed for outbound connections: %w", network, ErrBlocked)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("parse dialled address %q: %w", address, ErrBlocked)
	}
	return p.Check(ap.Addr())
}

// HTTPClient returns a client for requests to user-supplied URLs. Its
// transport dials through Dialer, so the first request and every redirect
// target are checked on the address actually connected to. It ignores proxy
// settings from the environment, because through a proxy the guard would
// only ever see the proxy's address. It follows at most MaxRedirects
// redirects, and only to http and https URLs. timeout bounds each request
// as a whole, redirects included; zero means no overall limit (the caller's
// context still applies). Callers should build one client and reuse it so
// connections are pooled.
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	// The same settings as net/http's default transport, minus the proxy.
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            p.Dialer(nil).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", ErrRedirect, MaxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("%w: unsupported scheme %q", ErrRedirect, s)
	}
	return nil
}
