package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(lat, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

// A fixed-count run makes exactly that many requests, records every
// latency and counts non-2xx answers as errors.
func TestRunLoadCountsAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping/bad" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("OK"))
	}))
	defer srv.Close()
	cfg := loadConfig{Conns: 4, Requests: 200, MaxTime: 30 * time.Second, MaxRequests: 1000, Timeout: 5 * time.Second}
	res, err := runLoad(context.Background(), cfg, pingRequests(srv.URL, []string{"a", "b", "c", "bad"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Total() != 200 || res.Errors != 50 || res.OK != 150 || len(res.Latencies) != 200 {
		t.Fatalf("total %d, ok %d, errors %d, latencies %d; want 200, 150, 50, 200", res.Total(), res.OK, res.Errors, len(res.Latencies))
	}
	if res.Statuses[http.StatusInternalServerError] != 50 || res.FirstError == "" {
		t.Errorf("statuses %v, first error %q", res.Statuses, res.FirstError)
	}
}
