package checks

import (
	"maps"
	"slices"
	"sync"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// cache keeps, for a database with one writer (SQLite), the checks that
// recent ping batches wrote, exactly as those batches committed them, so
// the next ping for a check does not read its row back. The database stays
// the truth: every batch still writes the check's new state.
//
// The cache is only trusted while nothing else has written the database
// since the batch that filled it, which the writer's store.WriteMark
// tells: it moves with every row any statement of this process changes
// (API edits, the deadline scan, the outbox, any later batch) and when
// another process — `nightjar apply`, say — commits. A batch that finds
// the mark moved starts from an empty cache. PostgreSQL has no cache:
// other replicas write the same rows.
type cache struct {
	mu     sync.Mutex
	checks map[string]*nightjar.Check
	mark   store.WriteMark
	max    int
}

// noMark is a mark no batch begins at: the cache holds nothing trusted.
var noMark = store.WriteMark{Changes: -1}

// maxCachedChecks bounds the cache's memory (about a kilobyte a check).
const maxCachedChecks = 50_000

func newCache(max int) *cache {
	return &cache{checks: map[string]*nightjar.Check{}, max: max}
}

// begin is called at the start of a batch with the mark as the batch
// finds it: if the database changed since the cache was filled, the cache
// is emptied and restarts from this mark.
func (c *cache) begin(m store.WriteMark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mark != m {
		clear(c.checks)
		c.mark = m
	}
}

// get returns a private copy of a cached check, or nil.
func (c *cache) get(id string) *nightjar.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, ok := c.checks[id]
	if !ok {
		return nil
	}
	return deepCopy(cached)
}

// commit records what a committed batch wrote: from is the mark the batch
// began at, to the mark after its last statement. When another write came
// between (the cache no longer stands at from), the cache is emptied
// instead.
func (c *cache) commit(from, to store.WriteMark, checks []*nightjar.Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mark != from {
		clear(c.checks)
		c.mark = noMark
		return
	}
	for _, ch := range checks {
		if _, ok := c.checks[ch.ID]; !ok && len(c.checks) >= c.max {
			for id := range c.checks { // map order: an arbitrary victim
				delete(c.checks, id)
				break
			}
		}
		c.checks[ch.ID] = deepCopy(ch)
	}
	c.mark = to
}

// reset empties the cache after a batch failed.
func (c *cache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.checks)
	c.mark = noMark
}

// deepCopy copies a check with its slices and maps, so that neither the
// cache's copy nor the caller's shares anything the other may change. A
// nil slice stays nil: a check's nil Channels means all channels.
func deepCopy(c *nightjar.Check) *nightjar.Check {
	cp := *c
	cp.Tags = slices.Clone(c.Tags)
	cp.MetricRules = slices.Clone(c.MetricRules)
	cp.Channels = slices.Clone(c.Channels)
	cp.State.LastMetrics = maps.Clone(c.State.LastMetrics)
	return &cp
}
