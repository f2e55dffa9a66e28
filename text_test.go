package nightjar_test

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

func TestValidAndCleanText(t *testing.T) {
	for _, tc := range []struct {
		in    string
		valid bool
		max   int
		clean string
	}{
		{"plain", true, 100, "plain"},
		{"", true, 100, ""},
		{"Ünïcødé ✓", true, 100, "Ünïcødé ✓"},
		{"a\x00b", false, 100, "a\uFFFDb"},
		{"a\xffb", false, 100, "a\uFFFDb"},
		{"\xc3\x28", false, 100, "\uFFFD("},
		{"\xed\xa0\x80", false, 100, "\uFFFD"}, // an encoded surrogate
		{"ééé", true, 2, "éé"},
		{"é\xffé", false, 2, "é\uFFFD"},
		{strings.Repeat("x", 300), true, 200, strings.Repeat("x", 200)},
	} {
		if got := nightjar.ValidText(tc.in); got != tc.valid {
			t.Errorf("ValidText(%q) = %v", tc.in, got)
		}
		got := nightjar.CleanText(tc.in, tc.max)
		if got != tc.clean || !nightjar.ValidText(got) || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("CleanText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.clean)
		}
	}
}

func TestSecondsSaturates(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want time.Duration
	}{
		{0, 0},
		{3600, time.Hour},
		{-60, -time.Minute},
		{math.MaxInt64 / int64(time.Second), time.Duration(math.MaxInt64/int64(time.Second)) * time.Second},
		{math.MaxInt64/int64(time.Second) + 1, math.MaxInt64},
		{36028797018967568, math.MaxInt64}, // 3600 s after wrapping around
		{math.MaxInt64, math.MaxInt64},
		{math.MinInt64/int64(time.Second) - 1, math.MinInt64},
		{math.MinInt64, math.MinInt64},
	} {
		if got := nightjar.Seconds(tc.in); got != tc.want {
			t.Errorf("Seconds(%d) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestResolveChannels(t *testing.T) {
	chs := []*nightjar.Channel{{ID: "id-1", Name: "ops"}, {ID: "id-2", Name: "dev"}}
	got, err := nightjar.ResolveChannels([]string{"dev", "id-1", "ops", "id-2"}, chs)
	if err != nil || strings.Join(got, ",") != "id-2,id-1" {
		t.Fatalf("ResolveChannels = %v, %v", got, err)
	}
	if got, err := nightjar.ResolveChannels(nil, chs); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no refs: %#v, %v", got, err)
	}
	for _, bad := range []string{"id-3", "Ops", "\xff", ""} {
		if _, err := nightjar.ResolveChannels([]string{"ops", bad}, chs); nightjar.ErrorField(err) != "channels" {
			t.Errorf("ref %q: %v, want an error about channels", bad, err)
		}
	}
}
