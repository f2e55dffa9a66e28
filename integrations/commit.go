package integrations

import (
	"context"
	"hash/fnv"
	"sync"

	"github.com/nightjar-dev/nightjar/store"
)

// groupCommit runs the alert batches of concurrent requests in shared
// transactions, as the ping recorder does for pings: each request is
// answered only once the transaction holding its alerts has committed,
// but many requests share one commit, so a busy Alertmanager does not pay
// a disk sync per notification. While one transaction commits, the next
// one fills up, so transactions grow with load by themselves.
//
// A writer goroutine runs only while there is work; nothing has to be
// stopped. On PostgreSQL several writers run at once, one per shard of
// projects, so two transactions never wait on one alert row (alerts are
// one per project and dedup key, and a project's all go through one
// shard, whichever key brought them); SQLite has one writer.
type groupCommit struct {
	db     *store.DB
	shards []*commitShard
}

// maxJobs bounds the requests one transaction takes.
const maxJobs = 64

type commitShard struct {
	db      *store.DB
	mu      sync.Mutex
	pending []*commitJob
	running bool
}

type commitJob struct {
	fn   func(tx *store.Tx) error
	done chan error
}

func newGroupCommit(db *store.DB) *groupCommit {
	n := 4
	if db.Dialect().OneWriter() {
		n = 1
	}
	g := &groupCommit{db: db}
	for range n {
		g.shards = append(g.shards, &commitShard{db: db})
	}
	return g
}

// do runs fn in a transaction shared with other requests of the same
// shard, and returns once that transaction has committed, or with fn's
// error (fn then runs again in a transaction of its own, so one request's
// failure never fails another's). fn must be safe to run more than once:
// each run starts from a rolled-back state. If ctx ends first, do returns
// its error; fn may still commit.
func (g *groupCommit) do(ctx context.Context, shardKey string, fn func(tx *store.Tx) error) error {
	h := fnv.New32a()
	h.Write([]byte(shardKey))
	s := g.shards[h.Sum32()%uint32(len(g.shards))]
	j := &commitJob{fn: fn, done: make(chan error, 1)}
	s.mu.Lock()
	s.pending = append(s.pending, j)
	if !s.running {
		s.running = true
		go s.drain()
	}
	s.mu.Unlock()
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain commits the shard's pending jobs, up to maxJobs a transaction,
// until there are none.
func (s *commitShard) drain() {
	for {
		s.mu.Lock()
		n := min(len(s.pending), maxJobs)
		if n == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		batch := s.pending[:n:n]
		s.pending = append([]*commitJob(nil), s.pending[n:]...)
		s.mu.Unlock()
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. The transaction commits even if
// some request's client went away: the others wait for it. If it fails,
// each job runs again on its own, and gets its own result.
func (s *commitShard) commit(batch []*commitJob) {
	ctx := context.Background()
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		for _, j := range batch {
			if err := j.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, j := range batch {
			j.done <- err
		}
		return
	}
	for _, j := range batch {
		j.done <- s.db.WithTx(ctx, j.fn)
	}
}
