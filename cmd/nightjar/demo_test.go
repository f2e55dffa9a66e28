package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// `nightjar demo` sends the shop's spans to the server with the key, and
// stops by itself after --duration.
func TestDemoCommandExportsWithTheKey(t *testing.T) {
	var exports, refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("X-Api-Key") != "sekret" || r.Header.Get("Content-Encoding") != "gzip" {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		exports.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	out, errOut, err := runCLI(t, "", "demo", "--server", srv.URL+"/", "--key", "sekret", "--users", "3", "--rps", "60",
		"--duration", "700ms", "--control", "127.0.0.1:0", "--fail-percent", "100")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut)
	}
	if !regexp.MustCompile(`Failure switch: curl -X POST 'http://127\.0\.0\.1:\d+/failures\?percent=30'`).MatchString(out) {
		t.Errorf("output does not show the switch:\n%s", out)
	}
	m := regexp.MustCompile(`Made (\d+) requests, (\d+) failed\.`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Errorf("with every charge failing, the summary says %q:\n%s\n%s", m, out, errOut)
	}
	if exports.Load() == 0 || refused.Load() != 0 {
		t.Errorf("%d exports taken, %d refused", exports.Load(), refused.Load())
	}
}

func TestDemoCommandRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo"}, "--key is required"},
		{[]string{"demo", "--key", "k", "--users", "0"}, "--users must be"},
		{[]string{"demo", "--key", "k", "--rps", "-1"}, "--rps must be"},
		{[]string{"demo", "--key", "k", "--fail-percent", "120"}, "--fail-percent must be"},
		{[]string{"demo", "--key", "k", "--server", "127.0.0.1:8080"}, "--server must be"},
	} {
		t.Setenv("NIGHTJAR_DEMO_KEY", "")
		_, _, err := runCLI(t, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
