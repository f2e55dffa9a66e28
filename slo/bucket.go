package slo

import (
	"time"
)

// Counts are the additive counters of one objective over some minutes: the
// requests it counted, how many were good, and the user-time its users
// spent up and down (in milliseconds, from meaningful availability). Two
// Counts of disjoint minutes add up to the Counts of their union, which is
// what lets ingest flush them from many replicas and the store sum them.
type Counts struct {
	Good   uint64 `json:"good"`
	Total  uint64 `json:"total"`
	UpMs   int64  `json:"up_ms"`
	DownMs int64  `json:"down_ms"`
}

// Add returns the sum of c and d.
func (c Counts) Add(d Counts) Counts {
	return Counts{Good: c.Good + d.Good, Total: c.Total + d.Total, UpMs: c.UpMs + d.UpMs, DownMs: c.DownMs + d.DownMs}
}

// Sub returns c less d, for d a part of c.
func (c Counts) Sub(d Counts) Counts {
	return Counts{Good: c.Good - d.Good, Total: c.Total - d.Total, UpMs: c.UpMs - d.UpMs, DownMs: c.DownMs - d.DownMs}
}

// Bad returns how many counted requests were not good.
func (c Counts) Bad() uint64 { return c.Total - c.Good }

// LatencyBounds are the upper bounds of the latency histogram's buckets;
// a last bucket holds everything slower. They are fixed so that the
// histograms of every minute, replica and objective add up.
var LatencyBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram counts requests by duration: bucket i holds those that took at
// most LatencyBounds[i] and more than the bound before; the last bucket
// holds those slower than every bound.
type Histogram [len(LatencyBounds) + 1]uint64

// Observe counts one request that took d.
func (h *Histogram) Observe(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	h[i]++
}

// Merge adds g's counts to h.
func (h *Histogram) Merge(g *Histogram) {
	for i := range h {
		h[i] += g[i]
	}
}

// Quantile estimates the duration under which the share q of requests
// fell, interpolating linearly inside a bucket as Prometheus does; it is
// zero without requests and the largest bound when the answer lies in the
// last bucket.
func (h *Histogram) Quantile(q float64) time.Duration {
	var total uint64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen uint64
	for i, n := range h {
		if float64(seen+n) >= rank && n > 0 {
			if i == len(LatencyBounds) {
				return LatencyBounds[i-1]
			}
			lower := time.Duration(0)
			if i > 0 {
				lower = LatencyBounds[i-1]
			}
			frac := (rank - float64(seen)) / float64(n)
			return lower + time.Duration(frac*float64(LatencyBounds[i]-lower))
		}
		seen += n
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// Bucket is one minute of one objective: its counts and a histogram of its
// requests' durations. Buckets are additive: ingest fills one per minute
// and replica, and they merge into one.
type Bucket struct {
	Counts
	Latency Histogram `json:"latency"`
}

// Merge adds c to b.
func (b *Bucket) Merge(c *Bucket) {
	b.Counts = b.Counts.Add(c.Counts)
	b.Latency.Merge(&c.Latency)
}

// Series holds the counts of one objective minute by minute, as running
// totals in a ring, so that the sum over any window of retained minutes
// costs two look-ups however long the window is. It keeps a fixed number of
// minutes; older ones are forgotten. It is not safe for concurrent use.
type Series struct {
	cum         []Counts // cum[m % len]: totals of every minute from first to m
	first, last int64    // unix minutes of the oldest and newest minute added
	empty       bool
}

// NewSeries returns a series that keeps the given number of minutes
// (an objective's Retention).
func NewSeries(minutes int) *Series {
	return &Series{cum: make([]Counts, max(minutes, 1)+1), empty: true}
}

func minuteOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && s%60 != 0 {
		return s/60 - 1
	}
	return s / 60
}

// oldest is the oldest minute whose counts a sum can still include: the
// first one added, or, once the ring has wrapped, the one after the oldest
// running total held (a sum subtracts the total before its first minute).
func (s *Series) oldest() int64 { return max(s.first, s.last-int64(len(s.cum))+2) }

func (s *Series) slot(m int64) *Counts {
	n := int64(len(s.cum))
	return &s.cum[((m%n)+n)%n]
}

// Add adds counts to the minute that at falls in. Minutes may come in any
// order, but a minute that is older than the series keeps is refused
// (false); adding to a past minute costs one step per minute since.
func (s *Series) Add(at time.Time, c Counts) bool {
	m := minuteOf(at)
	n := int64(len(s.cum))
	switch {
	case s.empty:
		s.first, s.last, s.empty = m, m, false
		*s.slot(m) = c
	case m > s.last:
		prev := *s.slot(s.last)
		for k := max(s.last+1, m-n+1); k < m; k++ {
			*s.slot(k) = prev
		}
		*s.slot(m) = prev.Add(c)
		s.last = m
	case m >= s.first && m > s.last-n+1:
		for k := m; k <= s.last; k++ {
			*s.slot(k) = s.slot(k).Add(c)
		}
	case m < s.first && m > s.last-n+1:
		for k := s.first; k <= s.last; k++ {
			*s.slot(k) = s.slot(k).Add(c)
		}
		for k := m; k < s.first; k++ {
			*s.slot(k) = c
		}
		s.first = m
	default:
		return false
	}
	return true
}

// through returns the totals of every minute up to and including m, which
// is before first or at least oldest()-1.
func (s *Series) through(m int64) Counts {
	switch {
	case s.empty || m < s.first:
		return Counts{}
	case m > s.last:
		return *s.slot(s.last)
	}
	return *s.slot(m)
}

// Sum returns the counts of the minutes that start in [from, to). Minutes
// older than the series keeps count as empty.
func (s *Series) Sum(from, to time.Time) Counts {
	a, b := minuteOf(from), minuteOf(to)
	if !from.Equal(time.Unix(a*60, 0)) {
		a++ // a minute that started before from is not in the window
	}
	if s.empty {
		return Counts{}
	}
	a = max(a, s.oldest())
	if b <= a {
		return Counts{}
	}
	return s.through(b - 1).Sub(s.through(a - 1))
}

// Start returns the start of the oldest minute the series holds, the zero
// time when it is empty. Evaluations use it to tell a young objective's
// short history from quiet traffic.
func (s *Series) Start() time.Time {
	if s.empty {
		return time.Time{}
	}
	return time.Unix(s.oldest()*60, 0).UTC()
}
