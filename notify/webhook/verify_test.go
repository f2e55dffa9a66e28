package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/notify/webhook"
)

// signature computes a v1 signature independently of the package, so the
// tests pin the documented algorithm rather than the implementation.
func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_740_830_400, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"version":1,"id":"m1"}`)
	good := signature(secret, ts, body)

	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	const tsH, sigH = webhook.HeaderTimestamp, webhook.HeaderSignature

	tests := []struct {
		name      string
		secret    string
		header    http.Header
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil for success
	}{
		{name: "valid", header: hdr(tsH, ts, sigH, good)},
		{name: "valid within tolerance", header: hdr(tsH, ts, sigH, good), now: now.Add(4 * time.Minute)},
		{name: "valid slightly in the future", header: hdr(tsH, ts, sigH, good), now: now.Add(-time.Minute)},
		{name: "rotation: second signature matches", header: hdr(tsH, ts, sigH, signature("old", ts, body)+", "+good)},
		{name: "rotation: repeated header", header: hdr(tsH, ts, sigH, signature("old", ts, body), sigH, good)},
		{name: "unknown scheme alongside v1", header: hdr(tsH, ts, sigH, "v2=abcd,"+good)},
		{name: "uppercase hex accepted", header: hdr(tsH, ts, sigH, "v1="+upper(good[3:]))},
		{name: "empty secret", secret: "-", header: hdr(tsH, ts, sigH, good), want: webhook.ErrNoSecret},
		{name: "wrong secret", secret: "nope", header: hdr(tsH, ts, sigH, good), want: webhook.ErrSignatureMismatch},
		{name: "tampered body", header: hdr(tsH, ts, sigH, good), body: []byte(`{"version":1,"id":"m2"}`), want: webhook.ErrSignatureMismatch},
		{name: "timestamp swapped", header: hdr(tsH, strconv.FormatInt(now.Unix()+1, 10), sigH, good), now: now, want: webhook.ErrSignatureMismatch},
		{name: "stale", header: hdr(tsH, ts, sigH, good), now: now.Add(6 * time.Minute), want: webhook.ErrStaleTimestamp},
		{name: "too far in the future", header: hdr(tsH, ts, sigH, good), now: now.Add(-6 * time.Minute), want: webhook.ErrStaleTimestamp},
		{name: "custom tolerance", header: hdr(tsH, ts, sigH, good), now: now.Add(2 * time.Second), tolerance: time.Second, want: webhook.ErrStaleTimestamp},
		{name: "missing timestamp", header: hdr(sigH, good), want: webhook.ErrBadTimestamp},
		{name: "negative timestamp", header: hdr(tsH, "-"+ts, sigH, good), want: webhook.ErrBadTimestamp},
		{name: "non-numeric timestamp", header: hdr(tsH, "2025-03-01T12:00:00Z", sigH, good), want: webhook.ErrBadTimestamp},
		{name: "huge timestamp", header: hdr(tsH, "99999999999999999999999", sigH, good), want: webhook.ErrBadTimestamp},
		{name: "missing signature", header: hdr(tsH, ts), want: webhook.ErrNoSignature},
		{name: "only unknown schemes", header: hdr(tsH, ts, sigH, "v0=abc, sha256=def"), want: webhook.ErrNoSignature},
		{name: "bare hex without scheme", header: hdr(tsH, ts, sigH, good[3:]), want: webhook.ErrNoSignature},
		{name: "truncated signature", header: hdr(tsH, ts, sigH, good[:len(good)-2]), want: webhook.ErrSignatureMismatch},
		{name: "not hex", header: hdr(tsH, ts, sigH, "v1=zz"), want: webhook.ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := secret
			switch tt.secret {
			case "":
			case "-":
				s = ""
			default:
				s = tt.secret
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			n := now
			if !tt.now.IsZero() {
				n = tt.now
			}
			err := webhook.Verify(s, tt.header, b, n, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// FuzzVerify feeds arbitrary header values and bodies to Verify, which
// receivers expose to the internet: it must never panic, and it must never
// accept a request whose signature was not computed with the secret.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"id":"m1"}`)
	f.Add("1740830400", signature(secret, "1740830400", body), body)
	f.Add("1740830400", "v1=", body)
	f.Add("", "", []byte{})
	f.Add("-1", "v1=zz,v1=00", body)
	f.Add("99999999999999999999", "v1="+string(make([]byte, 64)), body)
	f.Add("1740830400", ",,,=,v1,v1==,=v1", body)
	f.Add("0x10", "v1=\xff\xfe", []byte("\x00"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		now := time.Unix(1_740_830_400, 0)
		err := webhook.Verify(secret, h, body, now, time.Hour)
		if err == nil && !hmacMatches(ts, sig, body) {
			t.Fatalf("Verify accepted ts=%q sig=%q without a valid signature", ts, sig)
		}
	})
}

// hmacMatches reports whether any comma-separated v1 entry in sig is the
// correct signature, by recomputing it.
func hmacMatches(ts, sig string, body []byte) bool {
	want := signature(secret, trimSpace(ts), body)
	for _, part := range splitComma(sig) {
		p := trimSpace(part)
		if len(p) == len(want) && upperEq(p, want) {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// upperEq compares case-insensitively, because hex decoding accepts both
// cases.
func upperEq(a, b string) bool { return upper(a) == upper(b) }
