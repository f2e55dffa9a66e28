package pingclient_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/pingclient"
)

func lookupIn(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestEnvFrom(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want pingclient.Env
	}{
		{name: "nothing set", vars: nil, want: pingclient.Env{}},
		{
			name: "nightjar URL wins over HC_API_URL",
			vars: map[string]string{"NIGHTJAR_PING_URL": "https://nj.example/ping", "HC_API_URL": "https://hc-ping.com"},
			want: pingclient.Env{BaseURL: "https://nj.example/ping"},
		},
		{
			name: "HC_API_URL alone",
			vars: map[string]string{"HC_API_URL": "https://hc-ping.com"},
			want: pingclient.Env{BaseURL: "https://hc-ping.com"},
		},
		{
			name: "empty nightjar URL falls back",
			vars: map[string]string{"NIGHTJAR_PING_URL": " ", "HC_API_URL": "https://hc-ping.com"},
			want: pingclient.Env{BaseURL: "https://hc-ping.com"},
		},
		{
			name: "check variables, trimmed",
			vars: map[string]string{"CHECK_UUID": checkUUID + "\n", "HC_PING_KEY": "pk", "CHECK_SLUG": "job"},
			want: pingclient.Env{UUID: checkUUID, PingKey: "pk", Slug: "job"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pingclient.EnvFrom(lookupIn(tc.vars)); got != tc.want {
				t.Errorf("EnvFrom = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFromEnvReadsProcessEnvironment(t *testing.T) {
	t.Setenv("NIGHTJAR_PING_URL", "")
	t.Setenv("HC_API_URL", "https://hc.example/ping")
	t.Setenv("CHECK_UUID", checkUUID)
	t.Setenv("HC_PING_KEY", "")
	t.Setenv("CHECK_SLUG", "")
	want := pingclient.Env{BaseURL: "https://hc.example/ping", UUID: checkUUID}
	if got := pingclient.FromEnv(); got != want {
		t.Errorf("FromEnv = %+v, want %+v", got, want)
	}
}

func TestEnvTarget(t *testing.T) {
	tests := []struct {
		name    string
		env     pingclient.Env
		arg     string
		want    pingclient.Target
		wantErr string
	}{
		{name: "uuid from env", env: pingclient.Env{UUID: checkUUID}, want: pingclient.Target{UUID: checkUUID}},
		{
			name: "uuid wins over slug in env",
			env:  pingclient.Env{UUID: checkUUID, PingKey: "pk", Slug: "job"},
			want: pingclient.Target{UUID: checkUUID},
		},
		{name: "slug from env", env: pingclient.Env{PingKey: "pk", Slug: "job"}, want: pingclient.Target{PingKey: "pk", Slug: "job"}},
		{name: "argument uuid wins", env: pingclient.Env{PingKey: "pk", Slug: "job"}, arg: checkUUID, want: pingclient.Target{UUID: checkUUID}},
		{name: "argument key and slug", env: pingclient.Env{UUID: checkUUID}, arg: "pk2/other", want: pingclient.Target{PingKey: "pk2", Slug: "other"}},
		{name: "bare slug takes key from env", env: pingclient.Env{PingKey: "pk"}, arg: "job", want: pingclient.Target{PingKey: "pk", Slug: "job"}},
		{name: "bare slug without key", arg: "job", wantErr: "HC_PING_KEY"},
		{name: "bad uuid in env", env: pingclient.Env{UUID: "nope"}, wantErr: "not of the form"},
		{name: "slug without key in env", env: pingclient.Env{Slug: "job"}, wantErr: "HC_PING_KEY is not"},
		{name: "key without slug in env", env: pingclient.Env{PingKey: "pk"}, wantErr: "CHECK_SLUG"},
		{name: "nothing", wantErr: "no check given"},
		{name: "bad argument", arg: "pk/a/b", wantErr: "slash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.env.Target(tc.arg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Target = %+v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Target = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
