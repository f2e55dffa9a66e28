package clientip

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

var proxies = Resolver{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00::/8")}}

func TestAddr(t *testing.T) {
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},                        // untrusted peer: header ignored
		{"127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},                    // trusted proxy
		{"127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.7, 10.1.1.1"}, "198.51.100.7"}, // spoofed first entry ignored
		{"127.0.0.1:5000", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"},         // several headers are one list
		{"127.0.0.1:5000", []string{"10.2.2.2, 10.1.1.1"}, "10.2.2.2"},                  // all trusted: the first
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"garbage"}, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"6.6.6.6, garbage, 198.51.100.7"}, "198.51.100.7"},
		{"127.0.0.1:5000", []string{"198.51.100.7, garbage"}, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"198.51.100.7:4711"}, "198.51.100.7"},           // with a port
		{"127.0.0.1:5000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},           // IPv6 with a port
		{"[::ffff:127.0.0.1]:5000", []string{"198.51.100.8"}, "198.51.100.8"},       // mapped peer
		{"[::ffff:203.0.113.9]:5000", []string{"198.51.100.8"}, "203.0.113.9"},      // mapped, untrusted
		{"[fd00::1]:5000", []string{"2001:db8::5, ::ffff:10.0.0.1"}, "2001:db8::5"}, // IPv6 proxy, mapped hop
		{"[fe80::1%eth0]:5000", nil, "fe80::1"},
		{"@", []string{"198.51.100.7"}, "@"}, // a Unix socket peer
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := proxies.Addr(r); got != tc.want {
			t.Errorf("peer %s xff %q: got %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

func TestNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":              "198.51.100.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::1": "2001:db8:1:2::/64",
		"@":                         "@",
	} {
		if got := Network(in); got != want {
			t.Errorf("Network(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever a client writes into X-Forwarded-For, an untrusted peer is
// recorded as itself, and a trusted one yields either itself or an
// address.
func FuzzAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "6.6.6.6, 10.0.0.1", "[::1]:80", ",,,", "::ffff:1.2.3.4", "fe80::1%eth0", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Forwarded-For", xff)
		r.RemoteAddr = "203.0.113.9:1"
		if got := proxies.Addr(r); got != "203.0.113.9" {
			t.Fatalf("untrusted peer, xff %q: %s", xff, got)
		}
		r.RemoteAddr = "127.0.0.1:1"
		got := proxies.Addr(r)
		if a, err := netip.ParseAddr(got); err != nil || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("trusted peer, xff %q: %q is not a plain address", xff, got)
		}
		_ = Network(got)
	})
}
