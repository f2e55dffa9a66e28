package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load describes the synthetic users.
type Load struct {
	// Users is how many users browse the shop, each with its own id
	// (user-001, user-002, ...).
	Users int
	// RPS is the requests per second of all users together; each user
	// makes one request every Users/RPS seconds, so the rate is steady.
	RPS float64
	// Limit, when above zero, stops after that many requests in all.
	Limit int
}

// Validate returns an error naming the first setting out of range.
func (l Load) Validate() error {
	switch {
	case l.Users < 1 || l.Users > 100000:
		return fmt.Errorf("users must be from 1 to 100000; got %d", l.Users)
	case !(l.RPS > 0 && l.RPS <= 10000):
		return fmt.Errorf("rps must be more than 0 and at most 10000; got %v", l.RPS)
	case l.Limit < 0:
		return fmt.Errorf("limit must not be negative; got %d", l.Limit)
	}
	return nil
}

// Stats count the load's requests so far.
type Stats struct {
	Requests, Failed int64
}

// paths are what users ask for, most often a checkout.
var paths = []string{"/checkout", "/checkout", "/checkout", "/products", "/products", "/orders"}

// Run makes the users browse until ctx ends or the limit is reached,
// reporting each request's outcome to stats (which may be nil). A failed
// request is one answered 5xx or not at all.
func (a *App) Run(ctx context.Context, l Load, stats *Stats) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if stats == nil {
		stats = &Stats{}
	}
	every := time.Duration(float64(l.Users) / l.RPS * float64(time.Second))
	var started atomic.Int64
	var wg sync.WaitGroup
	for i := range l.Users {
		user := fmt.Sprintf("user-%03d", i+1)
		// Spread the users' first requests over one interval, so the rate
		// is steady from the start rather than in bursts.
		offset := every * time.Duration(i) / time.Duration(l.Users)
		wg.Go(func() {
			first := time.NewTimer(offset)
			defer first.Stop()
			select {
			case <-first.C:
			case <-ctx.Done():
				return
			}
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				if n := started.Add(1); l.Limit > 0 && n > int64(l.Limit) {
					return // the others stop at their next turn
				}
				status, err := a.Visit(ctx, user, paths[rand.N(len(paths))])
				if ctx.Err() != nil && err != nil {
					return // stopped mid-request: not the shop's failure
				}
				atomic.AddInt64(&stats.Requests, 1)
				if err != nil || status >= 500 {
					atomic.AddInt64(&stats.Failed, 1)
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// ControlHandler answers GET /failures with the share of charges payments
// fails, as {"fail_percent": 10}, and sets it on POST or PUT
// /failures?percent=50, so failures can be switched on and off while the
// shop runs:
//
//	curl -X POST 'http://127.0.0.1:8099/failures?percent=30'
func (a *App) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	get := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]float64{"fail_percent": a.FailPercent()})
	}
	set := func(w http.ResponseWriter, r *http.Request) {
		p, err := strconv.ParseFloat(r.URL.Query().Get("percent"), 64)
		if err == nil {
			err = a.SetFailPercent(p)
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "percent: must be a number from 0 to 100", "field": "percent"})
			return
		}
		get(w, r)
	}
	mux.HandleFunc("GET /failures", get)
	mux.HandleFunc("POST /failures", set)
	mux.HandleFunc("PUT /failures", set)
	return mux
}
