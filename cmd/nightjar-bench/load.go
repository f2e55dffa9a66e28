package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is one load run's shape. A run is bounded both in requests
// and in time, whichever comes first: Requests (when > 0) with MaxTime as
// a safety limit, or Duration with MaxRequests as a safety limit.
type loadConfig struct {
	Conns       int
	Warmup      time.Duration
	Duration    time.Duration
	Requests    int64
	MaxTime     time.Duration
	MaxRequests int64
	Timeout     time.Duration // per request
	// Stop, when not nil, ends the measured phase early once closed;
	// requests in flight finish.
	Stop <-chan struct{}
}

// phaseLimits returns how many requests and how long one measured phase
// may run.
func (c loadConfig) phaseLimits() (int64, time.Duration) {
	if c.Requests > 0 {
		return c.Requests, c.MaxTime
	}
	return c.MaxRequests, c.Duration
}

// newRequest builds the i-th request of a run.
type newRequest func(ctx context.Context, i int64) (*http.Request, error)

// loadResult is what a measured phase did.
type loadResult struct {
	OK      int64 // 2xx answers
	Errors  int64 // non-2xx answers and transport errors
	Elapsed time.Duration
	// Latencies holds every request's latency (answered or not), sorted.
	Latencies  []time.Duration
	Statuses   map[int]int64
	FirstError string
}

// Total is every request that finished.
func (r *loadResult) Total() int64 { return r.OK + r.Errors }

// RPS is finished requests per second of wall time.
func (r *loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Total()) / r.Elapsed.Seconds()
}

// Percentile returns the nearest-rank percentile p (0 < p <= 1).
func (r *loadResult) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

// Max returns the largest latency.
func (r *loadResult) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[len(r.Latencies)-1]
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p*float64(n)+0.999999999) - 1 // ceil(p*n) - 1
	rank = max(0, min(rank, n-1))
	return sorted[rank]
}

// newLoadClient returns a client whose keep-alive pool holds exactly one
// connection per worker, and that never goes through a proxy.
func newLoadClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// runLoad runs an unmeasured warm-up and then the measured phase, each
// with cfg.Conns workers sharing one keep-alive client.
func runLoad(ctx context.Context, cfg loadConfig, mk newRequest) (*loadResult, error) {
	client := newLoadClient(cfg.Conns, cfg.Timeout)
	defer client.CloseIdleConnections()
	var seq atomic.Int64
	if cfg.Warmup > 0 {
		limit, _ := cfg.phaseLimits()
		phase(ctx, client, cfg.Conns, limit, cfg.Warmup, nil, &seq, mk, false)
	}
	limit, d := cfg.phaseLimits()
	res := phase(ctx, client, cfg.Conns, limit, d, cfg.Stop, &seq, mk, true)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

type workerStats struct {
	ok, errs int64
	lat      []time.Duration
	statuses map[int]int64
	firstErr string
	_        [64]byte // keeps workers' counters on separate cache lines
}

// phase runs conns workers until limit requests were started or d passed.
// Requests started before the end are allowed to finish (bounded by the
// client's timeout); their time counts.
func phase(ctx context.Context, client *http.Client, conns int, limit int64, d time.Duration,
	stop <-chan struct{}, seq *atomic.Int64, mk newRequest, record bool) *loadResult {
	var started atomic.Int64
	stats := make([]workerStats, conns)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &stats[w]
			st.statuses = map[int]int64{}
			if record {
				st.lat = make([]time.Duration, 0, 4096)
			}
			for ctx.Err() == nil && time.Now().Before(end) {
				select {
				case <-stop: // a nil stop never fires
					return
				default:
				}
				if started.Add(1) > limit {
					return
				}
				i := seq.Add(1) - 1
				req, err := mk(ctx, i)
				if err != nil {
					st.errs++
					if st.firstErr == "" {
						st.firstErr = err.Error()
					}
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				status := 0
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				lat := time.Since(t0)
				if record {
					st.lat = append(st.lat, lat)
				}
				st.statuses[status]++
				switch {
				case err != nil:
					st.errs++
					if st.firstErr == "" {
						st.firstErr = err.Error()
					}
				case status < 200 || status > 299:
					st.errs++
					if st.firstErr == "" {
						st.firstErr = fmt.Sprintf("%s %s: HTTP %d", req.Method, req.URL.Path, status)
					}
				default:
					st.ok++
				}
			}
		}()
	}
	wg.Wait()
	res := &loadResult{Elapsed: time.Since(start), Statuses: map[int]int64{}}
	n := 0
	for i := range stats {
		n += len(stats[i].lat)
	}
	res.Latencies = make([]time.Duration, 0, n)
	for i := range stats {
		st := &stats[i]
		res.add(st.ok, st.errs, st.lat, st.statuses, st.firstErr)
	}
	slices.Sort(res.Latencies)
	return res
}

// add counts more finished requests into r; r.Latencies must be sorted
// again afterwards.
func (r *loadResult) add(ok, errs int64, lat []time.Duration, statuses map[int]int64, firstErr string) {
	r.OK += ok
	r.Errors += errs
	r.Latencies = append(r.Latencies, lat...)
	for k, v := range statuses {
		r.Statuses[k] += v
	}
	if r.FirstError == "" {
		r.FirstError = firstErr
	}
}
