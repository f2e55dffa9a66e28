package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/config"
	"go.yaml.in/yaml/v3"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: `"15m"`, want: 15 * time.Minute},
		{in: "90", want: 90 * time.Second},
		{in: "0", want: 0},
		{in: "86400", want: 24 * time.Hour},
		{in: `"3600"`, want: time.Hour},
		{in: "-5m", wantErr: `"-5m" is not a duration`},
		{in: "90 s", want: 90 * time.Second},
		{in: "1d", want: 24 * time.Hour},
		{in: "9223372036", want: 9223372036 * time.Second},
		{in: "soon", wantErr: `"soon" is not a duration`},
		{in: "1.5", wantErr: `"1.5" is not a duration`},
		{in: `""`, wantErr: `"" is not a duration`},
		{in: "9223372037", wantErr: "out of range"},
		{in: "-9223372037", wantErr: "out of range"},
		{in: "99999999999999999999", wantErr: "not a duration"},
		{in: "[1m]", wantErr: "expected a duration"},
		{in: "{m: 1}", wantErr: "expected a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D config.Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("\nd: "+tt.in+"\n"), &v)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %v, want an error containing %q", time.Duration(v.D), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "line 2") {
					t.Errorf("error %q does not contain %q and the line", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Duration(v.D) != tt.want {
				t.Errorf("got %v, want %v", time.Duration(v.D), tt.want)
			}
		})
	}
}

func TestDurationNullLeavesValue(t *testing.T) {
	var v struct {
		D *config.Duration `yaml:"d"`
		E config.Duration  `yaml:"e"`
	}
	v.E = config.Duration(time.Minute)
	if err := yaml.Unmarshal([]byte("d: ~\ne:\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D != nil || v.E != config.Duration(time.Minute) {
		t.Errorf("got d=%v e=%v", v.D, time.Duration(v.E))
	}
}

func TestDurationMarshalRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 90 * time.Second, 90 * time.Minute, 1500 * time.Millisecond, 400 * 24 * time.Hour} {
		out, err := yaml.Marshal(struct {
			D config.Duration `yaml:"d"`
		}{config.Duration(d)})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			D config.Duration `yaml:"d"`
		}
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("%v: %v (%s)", d, err, out)
		}
		if time.Duration(back.D) != d {
			t.Errorf("%v came back as %v (%s)", d, time.Duration(back.D), out)
		}
	}
}
