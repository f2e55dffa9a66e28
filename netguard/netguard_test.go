package netguard_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/netguard"
)

func TestCheck(t *testing.T) {
	const ok = netguard.Kind("") // allowed by the default policy
	tests := []struct {
		addr string
		kind netguard.Kind // kind refused by the default policy, or ok
		// privateOK says whether Policy{AllowPrivate: true} allows it.
		privateOK bool
	}{
		// Public unicast.
		{"8.8.8.8", ok, true},
		{"1.1.1.1", ok, true},
		{"93.184.215.14", ok, true},
		{"2606:4700:4700::1111", ok, true},
		{"2001:4860:4860::8888", ok, true},
		{"100.63.255.255", ok, true},   // just below CGNAT
		{"100.128.0.0", ok, true},      // just above CGNAT
		{"172.15.255.255", ok, true},   // just below 172.16/12
		{"172.32.0.0", ok, true},       // just above 172.16/12
		{"192.167.255.255", ok, true},  // just below 192.168/16
		{"223.255.255.255", ok, true},  // just below multicast
		{"64:ff9b::808:808", ok, true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ok, true},  // 6to4 of 8.8.8.8
		{"::ffff:8.8.8.8", ok, true},   // IPv4-mapped public

		// Loopback, private and friends: lifted by AllowPrivate.
		{"127.0.0.1", netguard.KindLoopback, true},
		{"127.255.255.254", netguard.KindLoopback, true},
		{"::1", netguard.KindLoopback, true},
		{"10.0.0.5", netguard.KindPrivate, true},
		{"10.255.255.255", netguard.KindPrivate, true},
		{"172.16.0.1", netguard.KindPrivate, true},
		{"172.31.255.255", netguard.KindPrivate, true},
		{"192.168.1.1", netguard.KindPrivate, true},
		{"100.64.0.1", netguard.KindSharedCGNAT, true},
		{"100.127.255.255", netguard.KindSharedCGNAT, true},
		{"169.254.169.254", netguard.KindLinkLocal, true}, // cloud metadata
		{"fe80::1", netguard.KindLinkLocal, true},
		{"fe80::1%eth0", netguard.KindLinkLocal, true},
		{"fc00::1", netguard.KindUniqueLocal, true},
		{"fd00:ec2::254", netguard.KindUniqueLocal, true}, // cloud metadata over IPv6
		// IPv6 forms that embed a refused IPv4 address.
		{"::ffff:127.0.0.1", netguard.KindLoopback, true},
		{"::ffff:10.0.0.1", netguard.KindPrivate, true},
		{"::ffff:169.254.169.254", netguard.KindLinkLocal, true},
		{"64:ff9b::7f00:1", netguard.KindLoopback, true}, // NAT64 of 127.0.0.1
		{"64:ff9b::a00:5", netguard.KindPrivate, true},   // NAT64 of 10.0.0.5
		{"2002:7f00:1::", netguard.KindLoopback, true},   // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", netguard.KindPrivate, true}, // 6to4 of 192.168.1.1

		// Never legitimate destinations: only AllowCIDRs lifts these.
		{"0.0.0.0", netguard.KindUnspecified, false},
		{"::", netguard.KindUnspecified, false},
		{"::ffff:0.0.0.0", netguard.KindUnspecified, false},
		{"0.1.2.3", netguard.KindThisNetwork, false},
		{"224.0.0.1", netguard.KindMulticast, false},
		{"239.255.255.250", netguard.KindMulticast, false},
		{"ff02::1", netguard.KindMulticast, false},
		{"ff05::1:3", netguard.KindMulticast, false},
		{"255.255.255.255", netguard.KindBroadcast, false},
		{"240.0.0.1", netguard.KindReserved, false},
		{"192.0.0.8", netguard.KindSpecial, false},
		{"192.0.2.10", netguard.KindDocumentation, false},
		{"198.51.100.7", netguard.KindDocumentation, false},
		{"203.0.113.99", netguard.KindDocumentation, false},
		{"2001:db8::1", netguard.KindDocumentation, false},
		{"3fff::1", netguard.KindDocumentation, false},
		{"198.18.0.1", netguard.KindBenchmarking, false},
		{"198.19.255.255", netguard.KindBenchmarking, false},
		{"192.88.99.1", netguard.KindReserved, false},
		{"::7f00:1", netguard.KindReserved, false}, // IPv4-compatible
		{"100::1", netguard.KindSpecial, false},
		{"64:ff9b:1::1", netguard.KindSpecial, false},
		{"fec0::1", netguard.KindReserved, false},
		// Teredo: refused as special-purpose, and the embedded server and
		// client addresses are named when they are the reason.
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", netguard.KindSpecial, false},
		{"2001:0:7f00:1::f7f7:f7f7", netguard.KindLoopback, false},
		{"2001:0:4136:e378::f5ff:fffa", netguard.KindPrivate, false}, // client 10.0.0.5
	}
	deflt := netguard.Policy{}
	private := netguard.Policy{AllowPrivate: true}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)

			err := deflt.Check(ip)
			if tt.kind == ok {
				if err != nil {
					t.Fatalf("default policy refused %s: %v", tt.addr, err)
				}
			} else {
				var be *netguard.BlockedError
				if !errors.As(err, &be) {
					t.Fatalf("default policy allowed %s (err=%v), want %s refused", tt.addr, err, tt.kind)
				}
				if be.Kind != tt.kind {
					t.Errorf("kind = %q, want %q (%v)", be.Kind, tt.kind, err)
				}
				if !errors.Is(err, netguard.ErrBlocked) {
					t.Error("error does not match ErrBlocked")
				}
				wantSetting := netguard.SettingAllowCIDRs
				if tt.kind.Private() {
					wantSetting = netguard.SettingAllowPrivate
				}
				if !strings.Contains(err.Error(), wantSetting) {
					t.Errorf("error %q does not name the setting %s", err, wantSetting)
				}
			}

			if err := private.Check(ip); (err == nil) != tt.privateOK {
				t.Errorf("AllowPrivate policy: Check(%s) = %v, want allowed=%v", tt.addr, err, tt.privateOK)
			}

			// An allow-list entry covering exactly this address always wins.
			exact := netguard.Policy{AllowCIDRs: []netip.Prefix{netip.PrefixFrom(ip.WithZone(""), ip.BitLen())}}
			if err := exact.Check(ip); err != nil {
				t.Errorf("AllowCIDRs with the address itself: Check(%s) = %v", tt.addr, err)
			}
		})
	}
}

func TestCheckMessage(t *testing.T) {
	err := netguard.Policy{}.Check(netip.MustParseAddr("10.0.0.5"))
	want := "destination 10.0.0.5 is a private address; allow it with allow_private_networks or allowed_cidrs"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	err = netguard.Policy{}.Check(netip.MustParseAddr("::ffff:127.0.0.1"))
	want = "destination 127.0.0.1 (embedded in ::ffff:127.0.0.1) is a loopback address; allow it with allow_private_networks or allowed_cidrs"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	err = netguard.Policy{AllowPrivate: true}.Check(netip.MustParseAddr("0.0.0.0"))
	want = "destination 0.0.0.0 is an unspecified address; allow it with allowed_cidrs"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if err := (netguard.Policy{}).Check(netip.Addr{}); !errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("zero address: err = %v, want ErrBlocked", err)
	}
}

func TestCheckAllowCIDRs(t *testing.T) {
	p := netguard.Policy{AllowCIDRs: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("::ffff:192.168.7.0/120"), // IPv4 prefix in mapped form
		netip.MustParsePrefix("fd12:3456::/32"),
	}}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"64:ff9b::a01:203", true}, // NAT64 of 10.1.2.3
		{"10.2.0.1", false},
		{"192.168.7.9", true},
		{"192.168.8.9", false},
		{"fd12:3456::1", true},
		{"fd12:3457::1", false},
		{"127.0.0.1", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		if err := p.Check(netip.MustParseAddr(tt.addr)); (err == nil) != tt.allowed {
			t.Errorf("Check(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
		}
	}
}

func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPClientRefusesLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "reached")
	})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	for _, url := range []string{
		srv.URL,                    // literal 127.0.0.1
		"http://localhost:" + port, // a name that resolves to loopback
		"http://[::ffff:127.0.0.1]:" + port,
	} {
		t.Run(url, func(t *testing.T) {
			resp, err := netguard.Policy{}.HTTPClient(5 * time.Second).Get(url)
			if err == nil {
				resp.Body.Close()
				t.Fatal("guarded client reached a loopback server")
			}
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Fatalf("err = %v, want ErrBlocked", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}

	resp, err := netguard.Policy{AllowPrivate: true}.HTTPClient(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("AllowPrivate client: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "reached" {
		t.Errorf("body = %q, want %q", body, "reached")
	}

	loop := netguard.Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	resp, err = loop.HTTPClient(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("AllowCIDRs client: %v", err)
	}
	resp.Body.Close()
}

func TestHTTPClientRedirects(t *testing.T) {
	// Only 127.0.0.1 is allowed, so a redirect to another loopback address
	// must be refused at dial time, before anything is sent.
	p := netguard.Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

	var srv *httptest.Server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/to-blocked":
			http.Redirect(w, r, "http://127.0.0.2:9/", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if n == 0 {
				io.WriteString(w, "done")
				return
			}
			http.Redirect(w, r, srv.URL+"/hop/"+strconv.Itoa(n-1), http.StatusFound)
		case r.URL.Path == "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	})
	client := p.HTTPClient(5 * time.Second)

	tests := []struct {
		path    string
		wantErr string // substring; empty means success
		blocked bool
	}{
		{path: "/hop/5"}, // five redirects are followed
		{path: "/hop/6", wantErr: "stopped after 5 redirects"},
		{path: "/to-blocked", wantErr: "127.0.0.2 is a loopback address", blocked: true},
		{path: "/to-file", wantErr: "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if body, _ := io.ReadAll(resp.Body); string(body) != "done" {
					t.Errorf("body = %q", body)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want error containing %q", resp.StatusCode, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if errors.Is(err, netguard.ErrBlocked) != tt.blocked {
				t.Errorf("errors.Is(err, ErrBlocked) = %v, want %v", !tt.blocked, tt.blocked)
			}
			if errors.Is(err, netguard.ErrRedirect) == tt.blocked {
				t.Errorf("errors.Is(err, ErrRedirect) = %v, want %v", tt.blocked, !tt.blocked)
			}
		})
	}
}

func TestHTTPClientIgnoresProxyEnvironment(t *testing.T) {
	tr, ok := netguard.Policy{}.HTTPClient(time.Second).Transport.(*http.Transport)
	if !ok {
		t.Fatal("transport is not an *http.Transport")
	}
	if tr.Proxy != nil {
		t.Error("transport takes a proxy, want none")
	}
}

func TestDialerKeepsBaseSettingsAndHooks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	var called atomic.Int32
	base := &net.Dialer{
		Timeout: 3 * time.Second,
		Control: func(network, address string, c syscall.RawConn) error {
			called.Add(1)
			return nil
		},
	}
	ctx := context.Background()

	d := netguard.Policy{}.Dialer(base)
	if d.Timeout != base.Timeout {
		t.Errorf("Timeout = %v, want %v", d.Timeout, base.Timeout)
	}
	if base.ControlContext != nil {
		t.Error("Dialer modified its base")
	}
	if _, err := d.DialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("dial loopback: err = %v, want ErrBlocked", err)
	}
	if called.Load() != 0 {
		t.Error("base hook ran for a refused address")
	}

	d = netguard.Policy{AllowPrivate: true}.Dialer(base)
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with AllowPrivate: %v", err)
	}
	c.Close()
	if called.Load() != 1 {
		t.Errorf("base hook ran %d times, want 1", called.Load())
	}

	if (netguard.Policy{}).Dialer(nil).Timeout == 0 {
		t.Error("nil base gave a dialer without a timeout")
	}
}
