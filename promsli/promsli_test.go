package promsli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
)

var local = netguard.Policy{AllowPrivate: true}

// t0 is a whole minute where the fake server's histories start.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fakeSeries is one counter as a fake Prometheus serves it: its value at
// an instant, and whether it has one.
type fakeSeries struct {
	labels string
	value  func(t time.Time) (float64, bool)
}

// fakePrometheus answers range queries from the given series of each
// expression, at the steps asked for, and records the requests' forms.
type fakePrometheus struct {
	mu      sync.Mutex
	queries []map[string]string
	series  map[string][]fakeSeries
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/prom/api/v1/query_range" || r.ParseForm() != nil {
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	f.queries = append(f.queries, form)
	f.mu.Unlock()
	start, _ := strconv.ParseFloat(form["start"], 64)
	end, _ := strconv.ParseFloat(form["end"], 64)
	step, _ := strconv.ParseFloat(form["step"], 64)
	series, ok := f.series[form["query"]]
	if !ok || step <= 0 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"unknown query %q"}`, form["query"])
		return
	}
	var result []string
	for _, s := range series {
		var values []string
		for ts := start; ts <= end+1e-9; ts += step {
			if v, ok := s.value(time.UnixMilli(int64(math.Round(ts * 1000)))); ok {
				values = append(values, fmt.Sprintf(`[%.3f,"%s"]`, ts, strconv.FormatFloat(v, 'f', -1, 64)))
			}
		}
		if len(values) > 0 {
			result = append(result, fmt.Sprintf(`{"metric":%s,"values":[%s]}`, s.labels, strings.Join(values, ",")))
		}
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, strings.Join(result, ","))
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/prom"
}

// minutes returns a counter that counts perMinute[i] requests in minute i
// from t0, taking its value at the edges, starting from base.
func minutes(base float64, perMinute ...float64) func(time.Time) (float64, bool) {
	return func(t time.Time) (float64, bool) {
		i := int(t.Sub(t0) / time.Minute)
		if i < 0 || i > len(perMinute) || perMinute[min(i, len(perMinute)-1)] < 0 {
			return 0, false // no value: before its history, after it, or in a gap
		}
		v := base
		for _, n := range perMinute[:i] {
			v += max(n, 0)
		}
		return v, true
	}
}

func TestFetchAddsIncreasesPerSeries(t *testing.T) {
	f := &fakePrometheus{series: map[string][]fakeSeries{
		`requests_total`: {
			{`{"code":"200"}`, minutes(1000, 10, 10, 10, 10, 10, 10, 10, 10)},
			// Restarts after minute 3: its value falls to the requests since.
			{`{"code":"500"}`, func(t time.Time) (float64, bool) {
				switch i := int(t.Sub(t0) / time.Minute); {
				case i < 0 || i > 8:
					return 0, false
				case i <= 4:
					return 500 + float64(2*i), true
				default:
					return float64(3 * (i - 4)), true
				}
			}},
			// A new series from minute 2, with a gap at edge 5.
			{`{"code":"404"}`, func(t time.Time) (float64, bool) {
				i := int(t.Sub(t0) / time.Minute)
				return float64(7 + i), i >= 2 && i <= 8 && i != 5
			}},
		},
		`requests_total{code!~"5.."}`: {
			{`{"code":"200"}`, minutes(1000, 10, 10, 10, 10, 10, 10, 10, 10)},
			{`{"code":"404"}`, func(t time.Time) (float64, bool) {
				i := int(t.Sub(t0) / time.Minute)
				return float64(7 + i), i >= 2 && i <= 8 && i != 5
			}},
		},
	}}
	c := promsli.New(local, time.Second).WithStep(time.Minute, 3) // 9 edges: three queries each
	q := slo.PromQuery{URL: serve(t, f), Good: `requests_total{code!~"5.."}`, Total: "requests_total"}
	// From a few seconds into the minute before t0 (not whole, left out)
	// to part way into minute 8 (not ended, left out).
	got, err := c.Fetch(context.Background(), q, t0.Add(-50*time.Second), t0.Add(8*time.Minute+30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []slo.Counts{
		{Good: 10, Total: 12}, {Good: 10, Total: 12}, {Good: 11, Total: 13}, {Good: 11, Total: 13},
		{Good: 10, Total: 13}, {Good: 12, Total: 15}, {Good: 11, Total: 14}, {Good: 11, Total: 14},
	}
	if !got.Start.Equal(t0) || fmt.Sprint(got.Counts) != fmt.Sprint(want) {
		t.Errorf("got %s %v\nwant %s %v", got.Start, got.Counts, t0, want)
	}
	if len(f.queries) != 6 {
		t.Fatalf("%d queries, want 3 for each expression", len(f.queries))
	}
	for _, form := range f.queries {
		if form["step"] != "60" || !strings.HasSuffix(form["start"], ".000") || form["timeout"] != "" {
			t.Errorf("query %v", form)
		}
	}
	var s = slo.NewSeries(100)
	if !got.AddTo(s) || s.Sum(t0, t0.Add(8*time.Minute)) != got.Total() || got.Total() != (slo.Counts{Good: 86, Total: 106}) {
		t.Errorf("series sum %+v, minutes total %+v", s.Sum(t0, t0.Add(8*time.Minute)), got.Total())
	}
}

// A counter that only appears part way leaves the minutes before it out,
// so a young objective is not mistaken for one with a quiet history.
func TestFetchStartsWhereDataStarts(t *testing.T) {
	late := func(t time.Time) (float64, bool) { i := int(t.Sub(t0) / time.Minute); return float64(5 * i), i >= 3 }
	f := &fakePrometheus{series: map[string][]fakeSeries{"total": {{`{}`, late}}, "good": {{`{}`, late}}}}
	c := promsli.New(local, time.Second)
	q := slo.PromQuery{URL: serve(t, f), Good: "good", Total: "total"}
	got, err := c.Fetch(context.Background(), q, t0, t0.Add(6*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Start.Equal(t0.Add(3*time.Minute)) || fmt.Sprint(got.Counts) != "[{5 5 0 0} {5 5 0 0} {5 5 0 0}]" {
		t.Errorf("got %s %v", got.Start, got.Counts)
	}
	none, err := c.Fetch(context.Background(), q, t0, t0.Add(3*time.Minute))
	if err != nil || len(none.Counts) != 0 {
		t.Errorf("before the counter existed: %v, %v", none, err)
	}
	empty, err := c.Fetch(context.Background(), q, t0.Add(30*time.Second), t0.Add(90*time.Second))
	if err != nil || len(empty.Counts) != 0 || len(f.queries) != 4 {
		t.Errorf("no whole minute: %v, %v after %d queries", empty, err, len(f.queries))
	}
}

func TestFetchErrors(t *testing.T) {
	answer := func(status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		})
	}
	matrix := func(values string) string {
		return `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":` + values + `}]}}`
	}
	var many []string
	for i := range promsli.MaxSeries + 1 {
		many = append(many, fmt.Sprintf(`{"metric":{"i":"%d"},"values":[[%d,"1"]]}`, i, t0.Unix()))
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + closed.Addr().String()
	closed.Close()
	// Answers nothing until the test ends; the client's timeout must end
	// the wait.
	release := make(chan struct{})
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	hangURL := serve(t, hang)
	t.Cleanup(func() { close(release) }) // before the server closes

	for _, tc := range []struct {
		name   string
		url    string
		policy netguard.Policy
		want   error
		words  string
	}{
		{"down", down, local, promsli.ErrUnavailable, "total query: prometheus unavailable: ask " + down},
		{"hangs", hangURL, local, promsli.ErrUnavailable, "Client.Timeout"},
		{"overloaded", serve(t, answer(503, `{"status":"error","errorType":"unavailable","error":"too many queries"}`)), local, promsli.ErrUnavailable, "503 Service Unavailable (unavailable): too many queries"},
		{"bad query", serve(t, answer(400, `{"status":"error","errorType":"bad_data","error":"1:6: parse error: unexpected }"}`)), local, promsli.ErrQuery, "400 Bad Request (bad_data): 1:6: parse error"},
		{"not prometheus", serve(t, answer(200, `<html>login</html>`)), local, promsli.ErrQuery, "something other than Prometheus's JSON"},
		{"not found", serve(t, answer(404, `404 page not found`)), local, promsli.ErrQuery, `404 Not Found: "404 page not found"`},
		{"scalar", serve(t, answer(200, `{"status":"success","data":{"resultType":"scalar","result":[]}}`)), local, promsli.ErrQuery, "gives a scalar"},
		{"NaN", serve(t, answer(200, matrix(fmt.Sprintf(`[[%d,"NaN"]]`, t0.Unix())))), local, promsli.ErrQuery, "the value NaN"},
		{"negative", serve(t, answer(200, matrix(fmt.Sprintf(`[[%d,"-1"]]`, t0.Unix())))), local, promsli.ErrQuery, "the value -1"},
		{"off the steps", serve(t, answer(200, matrix(fmt.Sprintf(`[[%d,"1"]]`, t0.Unix()+7)))), local, promsli.ErrQuery, "not one of the minutes"},
		{"out of order", serve(t, answer(200, matrix(fmt.Sprintf(`[[%d,"1"],[%d,"1"]]`, t0.Unix()+60, t0.Unix())))), local, promsli.ErrQuery, "out of order"},
		{"bad value", serve(t, answer(200, matrix(fmt.Sprintf(`[[%d,1]]`, t0.Unix())))), local, promsli.ErrQuery, "not a string"},
		{"too many series", serve(t, answer(200, `{"status":"success","data":{"resultType":"matrix","result":[`+strings.Join(many, ",")+`]}}`)), local, promsli.ErrQuery, "more than 1000 series"},
		{"loopback refused by default", serve(t, answer(200, matrix("[]"))), netguard.Policy{}, netguard.ErrBlocked, "allow_private_networks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := promsli.New(tc.policy, 300*time.Millisecond)
			_, err := c.Fetch(context.Background(), slo.PromQuery{URL: tc.url, Good: "g", Total: "t"}, t0, t0.Add(5*time.Minute))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error %v, want %v saying %q", err, tc.want, tc.words)
			}
		})
	}
}

// The caller's deadline travels to Prometheus as the query's timeout.
func TestFetchPassesDeadline(t *testing.T) {
	f := &fakePrometheus{series: map[string][]fakeSeries{"t": nil, "g": nil}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := promsli.New(local, 0).Fetch(ctx, slo.PromQuery{URL: serve(t, f), Good: "g", Total: "t"}, t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range f.queries {
		if d, err := time.ParseDuration(form["timeout"]); err != nil || d <= 15*time.Second || d > 20*time.Second {
			t.Errorf("timeout %q, want about 20s", form["timeout"])
		}
	}
}

// FuzzFetchAnswer feeds arbitrary answers to Fetch as if Prometheus had
// sent them: nothing panics, every refusal is one of the documented kinds,
// and accepted counts never have more good requests than requests.
func FuzzFetchAnswer(f *testing.F) {
	f.Add(200, fmt.Sprintf(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[%d,"1"],[%d,"0"],[%d,"5e3"]]}]}}`, t0.Unix(), t0.Unix()+60, t0.Unix()+120))
	f.Add(200, fmt.Sprintf(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[%d.0004,"+Inf"]]},{"metric":{},"values":[]}]}}`, t0.Unix()))
	f.Add(422, `{"status":"error","errorType":"execution","error":"x"}`)
	f.Add(200, `{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1e300,"1"]]}]}}`)
	f.Add(200, `{"status":"success","data":null}`)
	f.Add(302, ``)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 {
			status = 200
		}
		if status/100 == 3 || status == 101 {
			status = 200 // redirects and protocol switches are the HTTP client's business
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
		defer srv.Close()
		got, err := promsli.New(local, 5*time.Second).Fetch(context.Background(), slo.PromQuery{URL: srv.URL, Good: "g", Total: "t"}, t0, t0.Add(3*time.Minute))
		if err != nil {
			if !errors.Is(err, promsli.ErrQuery) && !errors.Is(err, promsli.ErrUnavailable) {
				t.Fatalf("error %v is neither a query error nor unavailability", err)
			}
			return
		}
		for _, c := range got.Counts {
			if c.Good > c.Total {
				t.Fatalf("counts %+v", got.Counts)
			}
		}
		if len(got.Counts) > 3 || got.Start.Before(t0) {
			t.Fatalf("minutes %s %v outside the range asked for", got.Start, got.Counts)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatal(err)
		}
	})
}
