// Package promsli reads the counts of a service level objective from a
// Prometheus server, for teams that already measure their requests with
// Prometheus counters instead of sending spans or events. It is a signal
// source of the flow (signals → evaluation → alerts): the evaluation module
// asks it for an objective's per-minute good and total counts, adds them
// to a [slo.Series] and evaluates that series exactly as it does one filled
// by span ingest.
//
// # How counts are read
//
// An objective's [slo.PromQuery] has two PromQL expressions whose values
// are counters: good requests and all requests. [Client.Fetch] asks the
// server's range-query API (/api/v1/query_range) for each expression's
// value at every whole minute from the first minute to the end of the last
// one, and turns the values into per-minute increases itself, series by
// series:
//
//   - the count of the minute starting at t is the value at t+1m less the
//     value at t;
//   - a value lower than the one before is a counter reset (a restarted
//     process), and the new value is the increase, as Prometheus's own
//     increase() assumes;
//   - a series seen for the first time contributes from its second value
//     on, because what it counted before is not known (Prometheus's
//     increase() does the same); after a gap, its increase across the gap
//     counts in the last minute of the gap, the one that ends where the
//     series is seen again.
//
// The increases of every series of an expression are added up and rounded
// to whole requests; a minute's good count is capped at its total.
//
// Nightjar differences the raw values rather than asking Prometheus for
// sum(increase(expr[1m])) because increase() extrapolates each window to
// its edges and leaves out the rise between the last sample of one window
// and the first of the next: its per-minute results are fractions that do
// not add up to what the counters counted. Differences of the values at
// minute edges add up exactly, so the budget over a month is the counters'
// real increase over the month. The price is that the answer has one
// series per labelled counter: an expression with many series should be
// aggregated in a recording rule, or with sum by (...) over labels that
// seldom reset, and answers with more than [MaxSeries] series are refused.
//
// # Freshness
//
// The value at a minute's edge is the latest sample at or before it, so
// requests of the last scrape interval before the edge are counted in the
// next minute. Counts move, they are not lost. The evaluation module
// should fetch minutes that ended at least one scrape interval ago, or
// fetch the last few minutes again.
package promsli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/slo"
)

// Limits on one fetch. They keep a mistaken query (every series of a busy
// server) from exhausting Nightjar's memory.
const (
	// MaxSeries is the most series one expression may answer with.
	MaxSeries = 1000
	// MaxResponseBytes is the largest answer read from Prometheus.
	MaxResponseBytes = 64 << 20
	// DefaultTimeout bounds one query when New is given none.
	DefaultTimeout = 30 * time.Second
	// maxSteps is how many points one range query asks for; Prometheus
	// refuses more than 11,000 per series.
	maxSteps = 10000
)

// ErrUnavailable is matched by errors.Is when Prometheus could not be
// reached, timed out or answered with a server error: the counts are
// unknown for now, and the evaluation should wait rather than take the
// minutes as empty.
var ErrUnavailable = errors.New("prometheus unavailable")

// ErrQuery is matched by errors.Is when Prometheus refused a query or
// answered with something that is not a counter's values: the objective's
// configuration needs fixing, and asking again will not help.
var ErrQuery = errors.New("prometheus query refused")

// Client reads counts from Prometheus servers. It is safe for concurrent
// use; build one and reuse it so connections are pooled.
type Client struct {
	http     *http.Client
	step     time.Duration // a minute; tests use seconds
	maxSteps int
}

// New returns a client whose requests go through policy, so an objective's
// URL cannot reach addresses the operator has not allowed (a Prometheus on
// the same host or network needs the policy's AllowPrivate or AllowCIDRs).
// timeout bounds each query; zero means DefaultTimeout.
func New(policy netguard.Policy, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{http: policy.HTTPClient(timeout), step: time.Minute, maxSteps: maxSteps}
}

// Minutes are the counts of consecutive minutes: Counts[i] is the minute
// starting at Start plus i minutes.
type Minutes struct {
	Start  time.Time
	Counts []slo.Counts
}

// AddTo adds every minute's counts to s, the step between fetching and
// evaluating. It reports false when s refused a minute as older than it
// keeps.
func (m *Minutes) AddTo(s *slo.Series) bool {
	ok := true
	for i, c := range m.Counts {
		ok = s.Add(m.Start.Add(time.Duration(i)*time.Minute), c) && ok
	}
	return ok
}

// Total returns the sum of every minute's counts.
func (m *Minutes) Total() slo.Counts {
	var sum slo.Counts
	for _, c := range m.Counts {
		sum = sum.Add(c)
	}
	return sum
}

// Fetch reads q's good and total counts for the whole minutes that start
// in [from, to): a minute that started before from is left out, and so is
// one that has not ended by to. Leading minutes before the total
// expression has any data are left out too, so that an objective whose
// counter is new is not taken for one with a quiet history; Start is then
// the first minute with data, and Counts is empty when there is none.
//
// An error matches ErrUnavailable (try again later), ErrQuery (fix the
// query) or netguard.ErrBlocked (the URL is not allowed), and names the
// expression (good or total) it is about.
func (c *Client) Fetch(ctx context.Context, q slo.PromQuery, from, to time.Time) (*Minutes, error) {
	first := from.Truncate(c.step)
	if first.Before(from) {
		first = first.Add(c.step)
	}
	last := to.Truncate(c.step) // the edge that ends the last minute
	out := &Minutes{Start: first}
	if !last.After(first) {
		return out, nil
	}
	n := int(last.Sub(first) / c.step)
	total, seenFrom, err := c.increases(ctx, q.URL, "total", q.Total, first, n)
	if err != nil {
		return nil, err
	}
	good, _, err := c.increases(ctx, q.URL, "good", q.Good, first, n)
	if err != nil {
		return nil, err
	}
	if seenFrom < 0 {
		return out, nil
	}
	out.Start = first.Add(time.Duration(seenFrom) * c.step)
	for i := seenFrom; i < n; i++ {
		t := uint64(math.Round(total[i]))
		out.Counts = append(out.Counts, slo.Counts{Good: min(uint64(math.Round(good[i])), t), Total: t})
	}
	return out, nil
}

// series is the state of one series carried from one range query to the
// next.
type series struct {
	step  int // index of the edge of its last value
	value float64
}

// increases returns the summed increases of expr's series in each of the n
// minutes from first, and the index of the first minute that starts at or
// after a value of any series (-1 when there is none): the minutes before
// it have no data at all.
func (c *Client) increases(ctx context.Context, base, name, expr string, first time.Time, n int) ([]float64, int, error) {
	inc := make([]float64, n)
	seenFrom := -1
	state := map[string]*series{}
	// Edges 0..n; each query asks for up to maxSteps of them.
	for lo := 0; lo <= n; lo += c.maxSteps {
		hi := min(lo+c.maxSteps-1, n)
		result, err := c.queryRange(ctx, base, expr, first.Add(time.Duration(lo)*c.step), first.Add(time.Duration(hi)*c.step))
		if err != nil {
			return nil, 0, fmt.Errorf("%s query: %w", name, err)
		}
		for _, r := range result {
			key := string(r.Metric)
			s := state[key]
			if s == nil && len(state) >= MaxSeries {
				return nil, 0, fmt.Errorf("%s query: %w: more than %d series; aggregate it (sum by (...)) or use a recording rule", name, ErrQuery, MaxSeries)
			}
			for _, p := range r.Values {
				at, v, err := p.parse()
				if err != nil {
					return nil, 0, fmt.Errorf("%s query: %w: %v", name, ErrQuery, err)
				}
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					return nil, 0, fmt.Errorf("%s query: %w: series %s has the value %v at %s, which no counter has", name, ErrQuery, key, v, at.UTC().Format(time.RFC3339))
				}
				i := int(at.Sub(first).Round(time.Millisecond) / c.step)
				if i < lo || i > hi || !first.Add(time.Duration(i)*c.step).Equal(at.Round(time.Millisecond)) {
					return nil, 0, fmt.Errorf("%s query: %w: a value at %s, which is not one of the minutes asked for", name, ErrQuery, at.UTC().Format(time.RFC3339Nano))
				}
				switch {
				case s == nil:
					s = &series{}
					state[key] = s
					if seenFrom < 0 || i < seenFrom {
						seenFrom = i
					}
				case i <= s.step:
					return nil, 0, fmt.Errorf("%s query: %w: series %s has values out of order", name, ErrQuery, key)
				case v >= s.value:
					inc[i-1] += v - s.value
				default:
					inc[i-1] += v // reset
				}
				s.step, s.value = i, v
			}
		}
	}
	if seenFrom >= n {
		seenFrom = -1 // only the last edge: no whole minute measured
	}
	return inc, seenFrom, nil
}

// sample is one [unix seconds, "value"] pair of a range query's answer.
type sample [2]json.RawMessage

func (p sample) parse() (time.Time, float64, error) {
	var ts float64
	var text string
	if err := json.Unmarshal(p[0], &ts); err != nil {
		return time.Time{}, 0, fmt.Errorf("a sample's time is not a number: %.40s", p[0])
	}
	if err := json.Unmarshal(p[1], &text); err != nil {
		return time.Time{}, 0, fmt.Errorf("a sample's value is not a string: %.40s", p[1])
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("a sample's value is not a number: %.40q", text)
	}
	sec, frac := math.Modf(ts)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))), v, nil
}

// answer is the envelope of Prometheus's HTTP API.
type answer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string   `json:"resultType"`
		Result     []result `json:"result"`
	} `json:"data"`
}

// result is one series of a range query's answer: its labels, kept as
// the JSON text that tells it apart, and its values.
type result struct {
	Metric json.RawMessage `json:"metric"`
	Values []sample        `json:"values"`
}

// queryRange asks for expr's values at every step from start to end.
func (c *Client) queryRange(ctx context.Context, base, expr string, start, end time.Time) ([]result, error) {
	form := url.Values{
		"query": {expr},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(c.step.Seconds(), 'f', -1, 64)},
	}
	if d, ok := ctx.Deadline(); ok {
		// Let Prometheus give up when Nightjar will.
		form.Set("timeout", strconv.FormatFloat(max(time.Until(d).Seconds(), 0.001), 'f', 3, 64)+"s")
	}
	endpoint := strings.TrimRight(base, "/") + "/api/v1/query_range"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: build the request to %s: %v", ErrQuery, endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrBlocked) || errors.Is(err, netguard.ErrRedirect) {
			return nil, fmt.Errorf("ask %s: %w", endpoint, err)
		}
		return nil, fmt.Errorf("%w: ask %s: %v", ErrUnavailable, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read the answer of %s: %v", ErrUnavailable, endpoint, err)
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: the answer of %s is larger than %d MiB; aggregate the query (sum by (...)) or use a recording rule", ErrQuery, endpoint, MaxResponseBytes>>20)
	}
	var a answer
	jsonErr := json.Unmarshal(body, &a)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: %s answered %s%s", ErrUnavailable, endpoint, resp.Status, detail(&a, body))
	case jsonErr != nil && resp.StatusCode/100 == 2:
		return nil, fmt.Errorf("%w: %s answered %s with something other than Prometheus's JSON: %.100q", ErrQuery, endpoint, resp.Status, bytes.TrimSpace(body))
	case resp.StatusCode/100 != 2 || a.Status != "success":
		return nil, fmt.Errorf("%w: %s answered %s%s", ErrQuery, endpoint, resp.Status, detail(&a, body))
	case a.Data.ResultType != "matrix":
		return nil, fmt.Errorf("%w: the expression gives a %s, not a vector of counters", ErrQuery, a.Data.ResultType)
	}
	return a.Data.Result, nil
}

// detail returns Prometheus's own explanation of a refusal, or the start
// of the body when it gave none.
func detail(a *answer, body []byte) string {
	switch {
	case a.Error != "":
		return fmt.Sprintf(" (%s): %.300s", a.ErrorType, a.Error)
	case len(bytes.TrimSpace(body)) > 0:
		return fmt.Sprintf(": %.100q", bytes.TrimSpace(body))
	}
	return ""
}

// formatTime writes t as the API's Unix seconds with milliseconds.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
