package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"go.yaml.in/yaml/v3"
)

// A check comes in through four front doors: Nightjar's v1 API,
// Healthchecks' v3 API, the console's form and a file applied with
// `nightjar apply`. Each translates its own format and the check patch
// decides, so on one table of good and bad inputs they must agree: the
// same inputs accepted and stored as the same check, the same refused
// with the same field named and nothing stored. Settings are written as
// in v1's JSON (durations in seconds, channels by name); each door says
// them its own way.

// settings are a check's settings as a case states them.
type settings map[string]any

// doorCase is one input for every door. A good one may say some of what
// the stored check must be; a bad one names the field every door must
// refuse.
type doorCase struct {
	name  string
	in    settings
	field string
	want  settings
}

var longName = strings.Repeat("n", nightjar.MaxNameLength)

func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "t" + strconv.Itoa(i)
	}
	return tags
}

var createCases = []doorCase{
	{name: "every setting of a simple check", in: settings{"name": "Nightly backup", "slug": "nightly-backup", "tags": []string{"db", "prod"},
		"desc": "pg_dump to S3", "service": "postgres", "timeout": 3600, "grace": 600, "early_tolerance": 30, "max_runtime": 7200,
		"min_runtime": 60, "failure_threshold": 3, "realert_interval": 21600, "methods": "POST", "manual_resume": true,
		"metric_rules": []string{"bytes >= 1e6"}, "channels": []string{"ops"}, "filter_body": true,
		"start_kw": "START", "success_kw": "OK", "failure_kw": "ERROR"},
		want: settings{"kind": "simple", "timeout": 3600.0}},
	{name: "a cron schedule", in: settings{"slug": "cron-job", "schedule": "30 2 * * *", "tz": "Europe/Berlin", "grace": 1800},
		want: settings{"kind": "cron", "name": "cron-job"}},
	{name: "an OnCalendar schedule", in: settings{"slug": "weekdays", "name": "Weekdays", "schedule": "Mon..Fri *-*-* 09:00"},
		want: settings{"kind": "oncalendar", "tz": "UTC"}},
	{name: "named after its slug", in: settings{"slug": "sitemap"}, want: settings{"name": "sitemap", "kind": "simple", "timeout": 86400.0}},
	{name: "a name in another alphabet", in: settings{"name": "Резервная копия", "slug": "backup-ru"}},
	{name: "the longest name", in: settings{"name": longName, "slug": "long"}},
	{name: "as many tags as allowed", in: settings{"slug": "tagged", "tags": manyTags(nightjar.MaxTags)}},
	{name: "two channels, in order", in: settings{"slug": "two", "channels": []string{"dev", "ops"}}},
	{name: "Healthchecks' body filter", in: settings{"slug": "filtered", "filter_http_body": true, "filter_default_fail": true, "success_kw": "SUCCESS"}},

	{name: "a name too long", in: settings{"name": longName + "n", "slug": "x"}, field: "name"},
	{name: "a NUL in the name", in: settings{"name": "a\x00b", "slug": "x"}, field: "name"},
	{name: "a NUL in the description", in: settings{"desc": "a\x00b", "slug": "x"}, field: "desc"},
	{name: "a slug with spaces", in: settings{"slug": "Not Valid"}, field: "slug"},
	{name: "a schedule that never runs", in: settings{"slug": "x", "schedule": "0 0 31 2 *"}, field: "schedule"},
	{name: "a schedule in the past", in: settings{"slug": "x", "schedule": "2020-01-01 00:00:00"}, field: "schedule"},
	{name: "a cron minute out of range", in: settings{"slug": "x", "schedule": "61 * * * *"}, field: "schedule"},
	{name: "an unknown time zone", in: settings{"slug": "x", "schedule": "0 3 * * *", "tz": "Mars/Olympus"}, field: "tz"},
	{name: "grace too short", in: settings{"slug": "x", "grace": 59}, field: "grace"},
	{name: "timeout too long", in: settings{"slug": "x", "timeout": 31536001}, field: "timeout"},
	{name: "early tolerance too long", in: settings{"slug": "x", "early_tolerance": 86401}, field: "early_tolerance"},
	{name: "max runtime too long", in: settings{"slug": "x", "max_runtime": 31536001}, field: "max_runtime"},
	{name: "min runtime not below max", in: settings{"slug": "x", "max_runtime": 60, "min_runtime": 60}, field: "min_runtime"},
	{name: "re-alerts too often", in: settings{"slug": "x", "realert_interval": 30}, field: "realert_interval"},
	{name: "too many failures in a row", in: settings{"slug": "x", "failure_threshold": 1001}, field: "failure_threshold"},
	{name: "an unknown channel", in: settings{"slug": "x", "channels": []string{"ops", "pager"}}, field: "channels"},
	{name: "too many tags", in: settings{"slug": "x", "tags": manyTags(nightjar.MaxTags + 1)}, field: "tags"},
	{name: "a tag too long", in: settings{"slug": "x", "tags": []string{strings.Repeat("t", nightjar.MaxTagLength+1)}}, field: "tags"},
	{name: "a metric rule that does not parse", in: settings{"slug": "x", "metric_rules": []string{"bytes >>= 1"}}, field: "metric_rules"},
}

// updateCase changes a check made from base; the doors that state a check
// whole (the form, the file) state base with change.
type updateCase struct {
	name         string
	base, change settings
	field        string
	want         settings
}

var updateCases = []updateCase{
	{name: "a timeout makes it simple", base: settings{"slug": "switch", "schedule": "0 3 * * *", "tz": "Europe/Berlin"},
		change: settings{"timeout": 7200}, want: settings{"kind": "simple", "schedule": "", "tz": "Europe/Berlin", "timeout": 7200.0}},
	{name: "a schedule makes it cron", base: settings{"slug": "switch", "timeout": 7200},
		change: settings{"schedule": "*/5 * * * *"}, want: settings{"kind": "cron", "timeout": 7200.0}},
	{name: "a new name keeps the slug", base: settings{"name": "Old name", "slug": "old"},
		change: settings{"name": "New name"}, want: settings{"name": "New name", "slug": "old"}},
	{name: "new channels", base: settings{"slug": "c", "channels": []string{"ops"}}, change: settings{"channels": []string{"dev"}}},
	{name: "grace too short", base: settings{"slug": "c"}, change: settings{"grace": 1}, field: "grace"},
	{name: "a schedule that never runs", base: settings{"slug": "c", "schedule": "0 3 * * *"}, change: settings{"schedule": "0 0 31 2 *"}, field: "schedule"},
	{name: "an unknown time zone", base: settings{"slug": "c", "schedule": "0 3 * * *"}, change: settings{"tz": "Mars/Olympus"}, field: "tz"},
	{name: "an unknown channel", base: settings{"slug": "c"}, change: settings{"channels": []string{"pager"}}, field: "channels"},
	{name: "a bad slug", base: settings{"slug": "c"}, change: settings{"slug": "Bad Slug"}, field: "slug"},
}

// storedSettings are what a stored check is compared on: its settings,
// none of its state.
var storedSettings = []string{"name", "slug", "tags", "desc", "service", "kind", "timeout", "grace", "schedule", "tz",
	"early_tolerance", "max_runtime", "min_runtime", "failure_threshold", "realert_interval", "methods", "manual_resume",
	"metric_rules", "channels", "filter_body", "filter_http_body", "filter_default_fail", "start_kw", "success_kw", "failure_kw"}

func TestFrontDoorsAgree(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			dbFlags := []string{"--data", cfg.DataDir}
			if dialect == "postgres" {
				cfg.DatabaseURL = config.Secret(storetest.PostgresURL(t))
				dbFlags = []string{"--database-url", string(cfg.DatabaseURL)}
			}
			f := &frontDoors{t: t, s: startServer(t, cfg), dbFlags: dbFlags}
			f.setUp()
			doors := []door{
				{"v1", f.v1Create, f.v1Update},
				{"v3", f.v3Create, f.v3Update},
				{"console", f.consoleCreate, f.consoleUpdate},
				{"apply", f.applyCreate, f.applyUpdate},
			}
			for _, tc := range createCases {
				var first settings
				for _, d := range doors {
					what := tc.name + " through " + d.name
					refused := f.answered(what, tc.field, d.create(tc.in))
					checks := f.list()
					switch {
					case refused && len(checks) != 0:
						t.Errorf("%s: a refused input stored %d checks", what, len(checks))
					case !refused && len(checks) != 1:
						t.Errorf("%s: %d checks stored, want 1", what, len(checks))
					case !refused:
						first = f.agree(what, first, checks[0], tc.want)
					}
					f.deleteAll()
				}
			}
			for _, tc := range updateCases {
				var first settings
				for _, d := range doors {
					what := "update: " + tc.name + " through " + d.name
					id, before := f.create(tc.base)
					refused := f.answered(what, tc.field, d.update(id, tc.base, tc.change))
					if checks := f.list(); len(checks) != 1 {
						t.Errorf("%s: %d checks after the update, want 1", what, len(checks))
					}
					after := f.byID(id)
					if refused && !reflect.DeepEqual(after, before) {
						t.Errorf("%s: a refused change changed the check:\n got %v\nwant %v", what, after, before)
					} else if !refused {
						first = f.agree(what, first, after, tc.want)
					}
					f.deleteAll()
				}
			}
		})
	}
}

// door creates and updates checks its own way and reports the field it
// refused the input for, "" when it took it.
type door struct {
	name   string
	create func(in settings) string
	update func(id string, base, change settings) string
}

type frontDoors struct {
	t       *testing.T
	s       *server
	dbFlags []string
	// channels are the project's channel ids by name; console is a
	// client logged in to the console as the project's owner.
	channels map[string]string
	console  *http.Client
}

func (f *frontDoors) setUp() {
	t := f.t
	f.channels = map[string]string{}
	for _, name := range []string{"ops", "dev"} {
		ch := f.s.api(t, "POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": name,
			"config": map[string]any{"url": "https://" + name + ".example/hook"}})
		f.channels[name] = ch["id"].(string)
	}
	var password string
	sc := bufio.NewScanner(strings.NewReader(f.s.stdout.String()))
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "Password:" {
			password = fields[1]
		}
	}
	jar, _ := cookiejar.New(nil)
	f.console = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := f.form("/login")
	form.Set("email", "admin@localhost")
	form.Set("password", password)
	if status, _ := f.post("/login", form); status != http.StatusSeeOther {
		t.Fatalf("console login: %d", status)
	}
}

// answered fails unless a door refused the input for the field wanted,
// or took it when none is, and reports whether the door refused it.
func (f *frontDoors) answered(what, wantField, gotField string) bool {
	f.t.Helper()
	if gotField != wantField {
		if wantField == "" {
			f.t.Errorf("%s: refused, naming %q; the other doors take it", what, gotField)
		} else {
			f.t.Errorf("%s: field %q, want %q", what, gotField, wantField)
		}
	}
	return gotField != ""
}

// list returns the settings of the project's checks.
func (f *frontDoors) list() []settings {
	var out []settings
	for _, c := range f.s.api(f.t, "GET", "/api/v1/checks", nil)["checks"].([]any) {
		out = append(out, pick(c.(map[string]any)))
	}
	return out
}

// agree fails unless got, what a door stored, is first, what the first
// door stored, and has the settings want states. It returns the first.
func (f *frontDoors) agree(what string, first, got, want settings) settings {
	f.t.Helper()
	if got == nil {
		return first
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			f.t.Errorf("%s: stored %s = %#v, want %#v", what, k, got[k], v)
		}
	}
	if first == nil {
		return got
	}
	if !reflect.DeepEqual(got, first) {
		for _, k := range storedSettings {
			if !reflect.DeepEqual(got[k], first[k]) {
				f.t.Errorf("%s: stored %s = %#v; the v1 API stored %#v", what, k, got[k], first[k])
			}
		}
	}
	return first
}

// pick keeps a v1 check's settings.
func pick(c map[string]any) settings {
	out := settings{}
	for _, k := range storedSettings {
		out[k] = c[k]
	}
	return out
}

// deleteAll empties the project for the next input.
func (f *frontDoors) deleteAll() {
	for _, c := range f.s.api(f.t, "GET", "/api/v1/checks", nil)["checks"].([]any) {
		f.do("DELETE", "/api/v1/checks/"+c.(map[string]any)["id"].(string), nil)
	}
}

// create makes a check through the v1 API for an update to start from.
func (f *frontDoors) create(in settings) (string, settings) {
	f.t.Helper()
	status, body := f.do("POST", "/api/v1/checks", v1Body(in))
	if status != http.StatusCreated {
		f.t.Fatalf("create %v: %d %s", in, status, body)
	}
	return body["id"].(string), pick(body)
}

func (f *frontDoors) byID(id string) settings {
	return pick(f.s.api(f.t, "GET", "/api/v1/checks/"+id, nil))
}

// do sends an API request with the project's key and returns the status
// and the JSON answer.
func (f *frontDoors) do(method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.s.base+path, rd)
	req.Header.Set("X-Api-Key", f.s.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

// answer is the field an API answer refused, or "" for a success.
func (f *frontDoors) answer(what string, status int, body map[string]any) string {
	f.t.Helper()
	switch {
	case status < 300:
		return ""
	case status == http.StatusBadRequest:
		field, _ := body["field"].(string)
		return field
	}
	f.t.Fatalf("%s: %d %v", what, status, body)
	return ""
}

// v1Body is a check in v1's JSON: settings as they are.
func v1Body(in settings) map[string]any { return maps.Clone(in) }

// v3Body is a check in Healthchecks' JSON: tags in one string, channels
// separated by commas.
func v3Body(in settings) map[string]any {
	out := maps.Clone(in)
	if tags, ok := in["tags"].([]string); ok {
		out["tags"] = strings.Join(tags, " ")
	}
	if chans, ok := in["channels"].([]string); ok {
		out["channels"] = strings.Join(chans, ",")
	}
	return out
}

func (f *frontDoors) v1Create(in settings) string {
	status, body := f.do("POST", "/api/v1/checks", v1Body(in))
	return f.answer("v1 create", status, body)
}

func (f *frontDoors) v1Update(id string, _, change settings) string {
	status, body := f.do("PATCH", "/api/v1/checks/"+id, v1Body(change))
	return f.answer("v1 update", status, body)
}

func (f *frontDoors) v3Create(in settings) string {
	status, body := f.do("POST", "/api/v3/checks/", v3Body(in))
	return f.answer("v3 create", status, body)
}

func (f *frontDoors) v3Update(id string, _, change settings) string {
	status, body := f.do("POST", "/api/v3/checks/"+id, v3Body(change))
	return f.answer("v3 update", status, body)
}

// The console's form, filled in as a person would in a browser.

var (
	inputTag    = regexp.MustCompile(`<input[^>]*>`)
	textareaTag = regexp.MustCompile(`(?s)<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	attribute   = regexp.MustCompile(`([a-z_-]+)(?:="([^"]*)")?`)
	formError   = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)
	// fieldError is an error shown beside the field it is about.
	fieldError = regexp.MustCompile(`(?s)<p class="field-error" id="([a-z_]+)-error">(.*?)</p>`)
)

// form loads a page and returns what its form would send unchanged: the
// inputs' values, the checked boxes and radios, the text areas.
func (f *frontDoors) form(path string) url.Values {
	f.t.Helper()
	res, err := f.console.Get(f.s.base + path)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	form := url.Values{}
	for _, tag := range inputTag.FindAllString(string(b), -1) {
		attrs := map[string]string{}
		checked := false
		for _, m := range attribute.FindAllStringSubmatch(strings.TrimPrefix(tag, "<input"), -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
			checked = checked || m[1] == "checked"
		}
		name := attrs["name"]
		switch {
		case name == "":
		case attrs["type"] == "checkbox" || attrs["type"] == "radio":
			if checked {
				v, ok := attrs["value"]
				if !ok {
					v = "on"
				}
				form.Add(name, v)
			}
		default:
			form.Add(name, attrs["value"])
		}
	}
	for _, m := range textareaTag.FindAllStringSubmatch(string(b), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

// post sends a form and returns the status and the page's error, if any:
// an error beside a field as "field: message".
func (f *frontDoors) post(path string, form url.Values) (int, string) {
	f.t.Helper()
	res, err := f.console.PostForm(f.s.base+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	msg := ""
	if m := fieldError.FindStringSubmatch(string(b)); m != nil {
		msg = m[1] + ": " + html.UnescapeString(m[2]) // the page's error, as "field: message"
	} else if m := formError.FindStringSubmatch(string(b)); m != nil {
		msg = html.UnescapeString(m[1])
	}
	return res.StatusCode, msg
}

// fill sets the form's fields to the settings: seconds and names as
// typed, a box for each yes-or-no setting, a channel box for each
// channel (an unknown one as a forged form would send it), and the
// schedule's kind chosen when a schedule or a timeout is stated.
func (f *frontDoors) fill(form url.Values, in settings) {
	for k, v := range in {
		switch v := v.(type) {
		case string:
			if k == "methods" {
				form.Del("post_only")
				if v == "POST" {
					form.Set("post_only", "on")
				}
				continue
			}
			form.Set(k, v)
		case int:
			form.Set(k, strconv.Itoa(v))
		case bool:
			form.Del(k)
			if v {
				form.Set(k, "on")
			}
		case []string:
			switch k {
			case "tags":
				form.Set(k, strings.Join(v, " "))
			case "metric_rules":
				form.Set(k, strings.Join(v, "\n"))
			case "channels":
				form.Set("notify", "some")
				form.Del("channel")
				for _, name := range v {
					id, ok := f.channels[name]
					if !ok {
						id = name
					}
					form.Add("channel", id)
				}
			}
		}
	}
	if _, ok := in["schedule"]; ok {
		form.Set("kind", "cron")
	} else if _, ok := in["timeout"]; ok {
		form.Set("kind", "simple")
	}
}

// consoleAnswer is the field a form's answer refused, or "" when it saved.
func (f *frontDoors) consoleAnswer(what string, status int, msg string) string {
	f.t.Helper()
	switch status {
	case http.StatusSeeOther:
		return ""
	case http.StatusBadRequest:
		field, _, _ := strings.Cut(msg, ": ")
		return field
	}
	f.t.Fatalf("%s: %d %s", what, status, msg)
	return ""
}

func (f *frontDoors) consoleCreate(in settings) string {
	form := f.form("/checks/new")
	f.fill(form, in)
	status, msg := f.post("/checks/new", form)
	return f.consoleAnswer("console create", status, msg)
}

func (f *frontDoors) consoleUpdate(id string, _, change settings) string {
	form := f.form("/checks/" + id + "/edit")
	f.fill(form, change)
	status, msg := f.post("/checks/"+id+"/edit", form)
	return f.consoleAnswer("console update", status, msg)
}

// The configuration file, applied with `nightjar apply` to the project
// the API key and the console's owner belong to.

func (f *frontDoors) apply(in settings) string {
	f.t.Helper()
	doc := map[string]any{"projects": []any{map[string]any{"name": "Default", "checks": []any{map[string]any(in)}}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	file := filepath.Join(f.t.TempDir(), "nightjar.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	_, _, err = runCLI(f.t, "", append([]string{"apply", "-f", file}, f.dbFlags...)...)
	if err != nil && nightjar.ErrorCode(err) != nightjar.EINVALID {
		f.t.Fatalf("apply %s: %v", b, err)
	}
	return nightjar.ErrorField(err)
}

func (f *frontDoors) applyCreate(in settings) string { return f.apply(in) }

// applyUpdate states the check whole, as a file does: base with change,
// and without base's schedule when change makes it a simple check.
func (f *frontDoors) applyUpdate(_ string, base, change settings) string {
	whole := maps.Clone(base)
	maps.Copy(whole, change)
	if _, ok := change["timeout"]; ok && change["schedule"] == nil {
		delete(whole, "schedule")
	}
	return f.apply(whole)
}
