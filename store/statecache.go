package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/nightjar-dev/nightjar"
)

// checkCache keeps, for SQLite's one writer connection, the checks that
// recent ping batches wrote, exactly as those batches committed them, so
// the next ping for a check does not read its row back. The database stays
// the truth: every batch still writes the check's new state.
//
// The cache is only trusted while nothing else has written the database
// since the batch that filled it. That is told by a mark read on the
// writer connection itself: total_changes() moves with every row any
// statement of this connection changes (API edits, the deadline scan, the
// outbox, any later batch), and data_version moves when another connection
// — another process, such as `nightjar apply` — commits. A batch that finds
// the mark moved starts from an empty cache. PostgreSQL has no cache: other
// replicas write the same rows.
type checkCache struct {
	mu     sync.Mutex
	checks map[string]*nightjar.Check
	mark   cacheMark
	max    int
}

// cacheMark is the writer connection's (total_changes(), data_version).
type cacheMark struct{ changes, version int64 }

// qCacheMark reads the mark; it is prepared with the hot statements.
const qCacheMark = `SELECT total_changes(), data_version FROM pragma_data_version()`

// maxCachedChecks bounds the cache's memory (about a kilobyte a check).
const maxCachedChecks = 50_000

func newCheckCache(max int) *checkCache {
	return &checkCache{checks: map[string]*nightjar.Check{}, max: max}
}

// readMark reads the writer connection's mark inside tx.
func (tx *Tx) readMark(ctx context.Context) (cacheMark, error) {
	var m cacheMark
	if err := tx.queryRow(ctx, qCacheMark).Scan(&m.changes, &m.version); err != nil {
		return m, fmt.Errorf("read change counters: %w", err)
	}
	return m, nil
}

// begin is called at the start of a batch with the mark as the batch
// finds it: if the database changed since the cache was filled, the cache
// is emptied and restarts from this mark.
func (c *checkCache) begin(m cacheMark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mark != m {
		clear(c.checks)
		c.mark = m
	}
}

// get returns a private copy of a cached check, or nil.
func (c *checkCache) get(id string) *nightjar.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, ok := c.checks[id]
	if !ok {
		return nil
	}
	cp := *cached
	return &cp
}

// commit records what a committed batch wrote: from is the mark the batch
// began at, to the mark after its last statement. When another write came
// between (the cache no longer stands at from), the cache is emptied
// instead.
func (c *checkCache) commit(from, to cacheMark, checks []*nightjar.Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mark != from {
		clear(c.checks)
		c.mark = cacheMark{changes: -1}
		return
	}
	for _, ch := range checks {
		if _, ok := c.checks[ch.ID]; !ok && len(c.checks) >= c.max {
			for id := range c.checks { // map order: an arbitrary victim
				delete(c.checks, id)
				break
			}
		}
		cp := *ch
		c.checks[ch.ID] = &cp
	}
	c.mark = to
}

// reset empties the cache after a batch failed.
func (c *checkCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.checks)
	c.mark = cacheMark{changes: -1}
}
