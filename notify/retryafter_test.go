package notify

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "120", want: 2 * time.Minute, wantOK: true},
		{in: " 0 ", want: 0, wantOK: true},
		{in: "Sat, 01 Mar 2025 12:01:30 GMT", want: 90 * time.Second, wantOK: true},
		{in: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0, wantOK: true}, // in the past
		{in: "9999999999999999999", want: 0, wantOK: false},          // overflows int64
		{in: "999999999", want: 24 * time.Hour, wantOK: true},        // clamped
		{in: "-5", wantOK: false},
		{in: "", wantOK: false},
		{in: "1.5", wantOK: false},
		{in: "tomorrow", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if ok != tt.wantOK || got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = (%v, %v), want (%v, %v)", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzParseRetryAfter feeds arbitrary Retry-After values, which come from
// the services' answers: a delay is never negative nor beyond a day.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", " 0 ", "Sat, 01 Mar 2025 12:01:30 GMT", "-5", "1.5", "9999999999999999999", "Mon, 01 Jan 9999 00:00:00 GMT"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := ParseRetryAfter(v, now); ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("ParseRetryAfter(%q) = %v", v, d)
		} else if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v without ok", v, d)
		}
	})
}

// FuzzSecondsDelay feeds arbitrary numbers of seconds, as services give
// them in their answers' bodies.
func FuzzSecondsDelay(f *testing.F) {
	for _, s := range []float64{0, 1.5, -1, 1e300, 35} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secs float64) {
		if d, ok := SecondsDelay(secs); ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("SecondsDelay(%v) = %v", secs, d)
		}
	})
}
