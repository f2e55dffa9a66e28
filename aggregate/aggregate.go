// Package aggregate is where spans and events stop being individual
// requests: it matches each one to the objectives of its project and
// service and adds it to that objective's bucket of the minute (good,
// total, a latency histogram), and follows each objective's users with an
// uptime.Tracker for meaningful availability, and each service's users'
// last requests for the customers having a bad time now. Nothing is stored per
// request; a flush hands out the buckets as additive counters and starts
// again, so the database sees one row per objective and minute however many
// requests there were, and several replicas can flush their own counters
// into the same rows.
//
// It sits between ingest (otlpin's decoders) and the slos storage area, in
// memory. It is pure: time is passed in, nothing is read from a clock,
// stored or sent. An Aggregator is safe for concurrent use.
package aggregate

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/uptime"
)

// Target is an objective ingest counts requests for.
type Target struct {
	// ID is the stored objective's id; ProjectID its project's.
	ID, ProjectID string
	Objective     *slo.Objective
}

// Row is one objective's minute as a flush hands it out: counters to add
// to what the store holds.
type Row struct {
	SLOID, ProjectID string
	Minute           time.Time
	Bucket           slo.Bucket
}

// Users are the users of one objective or one service whose last request
// changed since the last ChangedUsers: what a replica writes out so that
// every replica can count the customers having a bad time now from what
// all of them saw.
type Users struct {
	ProjectID string
	// SLOID is the objective's id for an objective's users, and empty for
	// a service's; Service is the service's name for a service's users,
	// and empty for an objective's.
	SLOID, Service string
	Last           []uptime.Last
}

// Limits bound the aggregator's memory. Beyond them ingest is refused
// (Full), so a flood of spans or an outage of the database makes senders
// retry rather than Nightjar run out of memory.
type Limits struct {
	// Buckets is how many objective-minutes may be open at once: about
	// 200 bytes each. Zero means 200,000 (some 40 MB).
	Buckets int64
	// Users is how many users the trackers may follow, a user once per
	// objective and once per service: about 24 bytes each
	// (uptime.Recent). Zero means 2,000,000.
	Users int64
	// MaxAge is how old a request may be and still be counted: older
	// ones would add to minutes the evaluation has long read. Zero means
	// one hour. Requests more than a minute in the future are refused too.
	MaxAge time.Duration
	// Cutoff is the longest gap between two requests of one user that
	// still counts as up or down time (uptime.New). Zero means
	// uptime.DefaultCutoff.
	Cutoff time.Duration
}

// Aggregator keeps the open buckets of every objective.
type Aggregator struct {
	limits Limits
	// index finds a request's objectives and its service's users:
	// project, then service.
	mu      sync.RWMutex
	index   map[string]map[string]*service
	entries map[string]*entry
	open    atomic.Int64 // buckets open, across entries
	users   atomic.Int64 // users followed at the last flush
	refused atomic.Int64 // requests outside MaxAge
}

// service is one service's objectives and its users' last requests.
type service struct {
	projectID, name string
	entries         []*entry
	mu              sync.Mutex
	// users holds each user's last request to the service that any of
	// its objectives counted; it failed if any of them judged it bad.
	users *uptime.Recent
}

// entry is one objective's open state.
type entry struct {
	Target
	mu      sync.Mutex
	buckets map[int64]*slo.Bucket // by minute, Unix seconds
	// last is the bucket most requests go to: the current minute's.
	lastMinute int64
	last       *slo.Bucket
	tracker    *uptime.Tracker
}

// New returns an aggregator with no objectives.
func New(l Limits) *Aggregator {
	if l.Buckets <= 0 {
		l.Buckets = 200_000
	}
	if l.Users <= 0 {
		l.Users = 2_000_000
	}
	if l.MaxAge <= 0 {
		l.MaxAge = time.Hour
	}
	if l.Cutoff == 0 {
		l.Cutoff = uptime.DefaultCutoff
	}
	if _, err := uptime.New(l.Cutoff); err != nil {
		panic(fmt.Sprintf("aggregate: %v", err))
	}
	return &Aggregator{limits: l, index: map[string]map[string]*service{}, entries: map[string]*entry{}}
}

// Set replaces the objectives counted. An objective that stays keeps its
// open buckets and users (its definition may have changed: what was counted
// under the old one is flushed as it is); one that goes loses them. So does
// a service: it keeps its users while any objective selects it.
func (a *Aggregator) Set(targets []Target) {
	entries := make(map[string]*entry, len(targets))
	index := map[string]map[string]*service{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range targets {
		e := a.entries[t.ID]
		if e == nil {
			tr, _ := uptime.New(a.limits.Cutoff)
			e = &entry{buckets: map[int64]*slo.Bucket{}, tracker: tr}
		}
		e.mu.Lock()
		e.Target = t
		e.mu.Unlock()
		entries[t.ID] = e
		name := t.Objective.Definition().CountedService()
		if index[t.ProjectID] == nil {
			index[t.ProjectID] = map[string]*service{}
		}
		svc := index[t.ProjectID][name]
		if svc == nil {
			svc = a.index[t.ProjectID][name]
			if svc == nil {
				svc = &service{projectID: t.ProjectID, name: name, users: uptime.NewRecent()}
			}
			svc.entries = nil
			index[t.ProjectID][name] = svc
		}
		svc.entries = append(svc.entries, e)
	}
	for id, e := range a.entries {
		if entries[id] == nil {
			e.mu.Lock()
			a.open.Add(-int64(len(e.buckets)))
			e.buckets, e.last = nil, nil
			e.mu.Unlock()
		}
	}
	a.entries, a.index = entries, index
}

// Full reports whether the aggregator is at a limit, so that ingest
// should answer "too many requests" until the next flush makes room.
func (a *Aggregator) Full() bool {
	return a.open.Load() >= a.limits.Buckets || a.users.Load() >= a.limits.Users
}

// Observe counts one request of a project for every objective that selects
// it, made by user (empty when unknown) and answered at at. It reports
// whether any objective counted it. A request older than MaxAge or from
// the future, or one that would open a bucket beyond the limit, is
// refused and counted (Refused).
//
// A request any objective counted is also its user's last request to its
// service (unless the user's last one came later), bad if any of those
// objectives judged it bad: failed, or slower than a latency objective's
// threshold. So a user is counted once per service however many of its
// objectives select their requests.
func (a *Aggregator) Observe(projectID string, r *slo.Request, user string, at, now time.Time) bool {
	if at.Before(now.Add(-a.limits.MaxAge)) || at.After(now.Add(time.Minute)) {
		a.refused.Add(1)
		return false
	}
	a.mu.RLock()
	svc := a.index[projectID][r.Service]
	var es []*entry
	if svc != nil {
		es = svc.entries
	}
	a.mu.RUnlock()
	minute := at.Truncate(time.Minute).Unix()
	counted, allGood := false, true
	var key uint64
	if user != "" {
		key = uptime.Key(user)
	}
	for _, e := range es {
		if !e.Objective.Matches(r) {
			continue
		}
		e.mu.Lock()
		b := e.bucket(a, minute)
		if b == nil {
			e.mu.Unlock()
			a.refused.Add(1)
			continue
		}
		good := e.Objective.Good(r)
		b.Total++
		if good {
			b.Good++
		}
		b.Latency.Observe(r.Duration)
		if user != "" {
			e.tracker.ObserveKey(key, at, good)
		}
		e.mu.Unlock()
		counted = true
		allGood = allGood && good
	}
	if counted && user != "" && at.UnixMilli() >= 0 {
		svc.mu.Lock()
		svc.users.Observe(uptime.Last{Key: key, AtMs: at.UnixMilli(), Failed: !allGood})
		svc.mu.Unlock()
	}
	return counted
}

// bucket returns the open bucket of a minute, opening it if there is room.
// e.mu is held.
func (e *entry) bucket(a *Aggregator, minute int64) *slo.Bucket {
	if e.last != nil && e.lastMinute == minute {
		return e.last
	}
	if e.buckets == nil {
		return nil // removed by Set meanwhile
	}
	b := e.buckets[minute]
	if b == nil {
		if a.open.Add(1) > a.limits.Buckets {
			a.open.Add(-1)
			return nil
		}
		b = &slo.Bucket{}
		e.buckets[minute] = b
	}
	e.last, e.lastMinute = b, minute
	return b
}

// Flush hands out every open bucket, with the user-time of the minutes
// the trackers finished by now, and starts empty. The rows are additive:
// the store adds them to what it holds. If storing them fails, Restore
// puts them back for the next flush.
func (a *Aggregator) Flush(now time.Time) []Row {
	entries, services := a.all()
	var rows []Row
	var users int64
	for _, svc := range services {
		svc.mu.Lock()
		svc.users.Forget(now.Add(-a.limits.Cutoff).UnixMilli())
		users += int64(svc.users.Len())
		svc.mu.Unlock()
	}
	for _, e := range entries {
		e.mu.Lock()
		if e.buckets == nil {
			e.mu.Unlock()
			continue
		}
		open := e.buckets
		e.buckets, e.last = make(map[int64]*slo.Bucket, len(open)), nil
		a.open.Add(-int64(len(open)))
		minutes := e.tracker.Advance(now)
		users += int64(e.tracker.Users())
		e.mu.Unlock()
		for _, m := range minutes {
			k := m.Start.Unix()
			b := open[k]
			if b == nil {
				b = &slo.Bucket{}
				open[k] = b
			}
			b.UpMs += m.UpMs
			b.DownMs += m.DownMs
		}
		for k, b := range open {
			rows = append(rows, Row{SLOID: e.ID, ProjectID: e.ProjectID, Minute: time.Unix(k, 0).UTC(), Bucket: *b})
		}
	}
	a.users.Store(users)
	return rows
}

// all returns the objectives and services counted now.
func (a *Aggregator) all() ([]*entry, []*service) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	entries := make([]*entry, 0, len(a.entries))
	for _, e := range a.entries {
		entries = append(entries, e)
	}
	var services []*service
	for _, byName := range a.index {
		for _, svc := range byName {
			services = append(services, svc)
		}
	}
	return entries, services
}

// ChangedUsers hands out, per objective and per service, the users whose
// last request changed since the last call, for a replica to write out.
// If writing them fails, RestoreUsers marks them changed again.
func (a *Aggregator) ChangedUsers() []Users {
	entries, services := a.all()
	var out []Users
	for _, e := range entries {
		e.mu.Lock()
		var ls []uptime.Last
		if e.buckets != nil {
			ls = e.tracker.Recent().Changed()
		}
		u := Users{ProjectID: e.ProjectID, SLOID: e.ID, Last: ls}
		e.mu.Unlock()
		if len(u.Last) > 0 {
			out = append(out, u)
		}
	}
	for _, svc := range services {
		svc.mu.Lock()
		ls := svc.users.Changed()
		svc.mu.Unlock()
		if len(ls) > 0 {
			out = append(out, Users{ProjectID: svc.projectID, Service: svc.name, Last: ls})
		}
	}
	return out
}

// RestoreUsers marks users ChangedUsers handed out as changed again, when
// they could not be written. Users of objectives and services no longer
// counted, and users forgotten meanwhile, are dropped.
func (a *Aggregator) RestoreUsers(us []Users) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, u := range us {
		if u.SLOID != "" {
			if e := a.entries[u.SLOID]; e != nil {
				e.mu.Lock()
				e.tracker.Recent().MarkChanged(u.Last)
				e.mu.Unlock()
			}
			continue
		}
		if svc := a.index[u.ProjectID][u.Service]; svc != nil {
			svc.mu.Lock()
			svc.users.MarkChanged(u.Last)
			svc.mu.Unlock()
		}
	}
}

// PendingUsers returns, per objective and per service of a project, the
// users whose last request changed since the last ChangedUsers: what
// this replica saw and has not handed out to be written yet. Objectives
// and services without such users are left out.
func (a *Aggregator) PendingUsers(projectID string) []Users {
	a.mu.RLock()
	var services []*service
	var entries []*entry
	for _, svc := range a.index[projectID] {
		services = append(services, svc)
		entries = append(entries, svc.entries...)
	}
	a.mu.RUnlock()
	var out []Users
	collect := func(u Users, r *uptime.Recent) {
		r.Pending(func(l uptime.Last) { u.Last = append(u.Last, l) })
		if len(u.Last) > 0 {
			out = append(out, u)
		}
	}
	for _, svc := range services {
		svc.mu.Lock()
		collect(Users{ProjectID: projectID, Service: svc.name}, svc.users)
		svc.mu.Unlock()
	}
	for _, e := range entries {
		e.mu.Lock()
		collect(Users{ProjectID: projectID, SLOID: e.ID}, e.tracker.Recent())
		e.mu.Unlock()
	}
	return out
}

// Restore merges rows a flush handed out back into the open buckets, when
// they could not be stored. Rows of objectives no longer counted are
// dropped. Restored buckets may go beyond the bucket limit: they were
// counted already, and Full then refuses new ingest until they are stored.
func (a *Aggregator) Restore(rows []Row) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, r := range rows {
		e := a.entries[r.SLOID]
		if e == nil {
			continue
		}
		e.mu.Lock()
		if e.buckets != nil {
			k := r.Minute.Unix()
			b := e.buckets[k]
			if b == nil {
				b = &slo.Bucket{}
				e.buckets[k] = b
				a.open.Add(1)
			}
			b.Merge(&r.Bucket)
		}
		e.mu.Unlock()
	}
}

// Stats are the aggregator's gauges, for metrics and logs.
type Stats struct {
	Objectives int
	Buckets    int64
	Users      int64
	Refused    int64
}

// Stats returns the current gauges.
func (a *Aggregator) Stats() Stats {
	a.mu.RLock()
	n := len(a.entries)
	a.mu.RUnlock()
	return Stats{Objectives: n, Buckets: a.open.Load(), Users: a.users.Load(), Refused: a.refused.Load()}
}
