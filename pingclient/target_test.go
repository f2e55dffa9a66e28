package pingclient_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/pingclient"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		arg     string
		want    pingclient.Target
		wantErr bool
	}{
		{arg: checkUUID, want: pingclient.Target{UUID: checkUUID}},
		{arg: strings.ToUpper(checkUUID), want: pingclient.Target{UUID: checkUUID}},
		{arg: " " + checkUUID + "\n", want: pingclient.Target{UUID: checkUUID}},
		{arg: "pk1/nightly-backup", want: pingclient.Target{PingKey: "pk1", Slug: "nightly-backup"}},
		{arg: "pk1/db backup", want: pingclient.Target{PingKey: "pk1", Slug: "db backup"}},
		{arg: "", wantErr: true},
		{arg: "   ", wantErr: true},
		{arg: "nightly-backup", wantErr: true},
		{arg: "{" + checkUUID + "}", wantErr: true},
		{arg: "urn:uuid:" + checkUUID, wantErr: true},
		{arg: strings.ReplaceAll(checkUUID, "-", ""), wantErr: true},
		{arg: "pk1/", wantErr: true},
		{arg: "/slug", wantErr: true},
		{arg: "pk1/a/b", wantErr: true},
		{arg: "pk1/..", wantErr: true},
		{arg: "pk1/a\x00b", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			got, err := pingclient.ParseTarget(tc.arg)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseTarget(%q) = %+v, want error", tc.arg, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tc.arg, err)
			}
			if got != tc.want {
				t.Errorf("ParseTarget(%q) = %+v, want %+v", tc.arg, got, tc.want)
			}
		})
	}
}

func TestTargetValidate(t *testing.T) {
	tests := []struct {
		name    string
		target  pingclient.Target
		wantErr string // substring; "" means valid
	}{
		{"uuid", pingclient.Target{UUID: checkUUID}, ""},
		{"upper-case uuid", pingclient.Target{UUID: strings.ToUpper(checkUUID)}, ""},
		{"slug form", pingclient.Target{PingKey: "k", Slug: "s"}, ""},
		{"empty", pingclient.Target{}, "empty"},
		{"both", pingclient.Target{UUID: checkUUID, Slug: "s"}, "exactly one"},
		{"short uuid", pingclient.Target{UUID: "5bf66975"}, "not of the form"},
		{"key only", pingclient.Target{PingKey: "k"}, "without a check slug"},
		{"slug only", pingclient.Target{Slug: "s"}, "needs a ping key"},
		{"slash in key", pingclient.Target{PingKey: "a/b", Slug: "s"}, "slash"},
		{"dot slug", pingclient.Target{PingKey: "k", Slug: "."}, "dot segment"},
		{"newline in slug", pingclient.Target{PingKey: "k", Slug: "s\n"}, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.target.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind     pingclient.Kind
		valid    bool
		asString string
	}{
		{pingclient.KindSuccess, true, "success"},
		{pingclient.KindStart, true, "start"},
		{pingclient.KindFail, true, "fail"},
		{pingclient.KindLog, true, "log"},
		{pingclient.ExitStatus(0), true, "0"},
		{pingclient.ExitStatus(143), true, "143"},
		{pingclient.ExitStatus(255), true, "255"},
		{pingclient.ExitStatus(256), false, "256"},
		{pingclient.ExitStatus(-1), false, "-1"},
		{"007", false, "007"},
		{"+1", false, "+1"},
		{"START", false, "START"},
	}
	for _, tc := range tests {
		if err := tc.kind.Validate(); (err == nil) != tc.valid {
			t.Errorf("Kind(%q).Validate() = %v, want valid=%v", string(tc.kind), err, tc.valid)
		}
		if got := tc.kind.String(); got != tc.asString {
			t.Errorf("Kind(%q).String() = %q, want %q", string(tc.kind), got, tc.asString)
		}
	}
}

func TestTargetStringRoundTrip(t *testing.T) {
	for _, tg := range []pingclient.Target{
		{UUID: checkUUID},
		{PingKey: "pk", Slug: "db-backup"},
	} {
		got, err := pingclient.ParseTarget(tg.String())
		if err != nil || got != tg {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tg.String(), got, err, tg)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{checkUUID, "pk/slug", "pk/", "/", "a/b/c", " x ", "pk/..", strings.ToUpper(checkUUID), "pk/ü s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		tg, err := pingclient.ParseTarget(arg)
		if err != nil {
			return
		}
		if err := tg.Validate(); err != nil {
			t.Fatalf("ParseTarget(%q) = %+v, which fails Validate: %v", arg, tg, err)
		}
		if (tg.UUID == "") == (tg.Slug == "") {
			t.Fatalf("ParseTarget(%q) = %+v, not exactly one form", arg, tg)
		}
		again, err := pingclient.ParseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("round trip of %+v via %q = %+v, %v", tg, tg.String(), again, err)
		}
	})
}
