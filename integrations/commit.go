package integrations

import (
	"context"
	"hash/fnv"
	"sync"

	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/store"
)

// groupCommit runs the alert batches of concurrent requests in shared
// transactions, as the ping recorder does for pings: each request is
// answered only once the transaction holding its alerts has committed,
// but many requests share one commit, so a busy Alertmanager does not pay
// a disk sync per notification. While one transaction commits, the next
// one fills up, so transactions grow with load by themselves. The alert
// changes of all requests of a transaction go to the alert stage
// together, so it reads their alerts' rows with one query.
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

// stage is where the changes of commit jobs go.
type stage interface {
	HandleAll(ctx context.Context, tx *store.Tx, chs []alerting.Change) error
}

// maxJobs bounds the requests one transaction takes.
const maxJobs = 64

type commitShard struct {
	db      *store.DB
	stage   stage
	mu      sync.Mutex
	pending []*commitJob
	running bool
}

// commitJob is one request's work: alert changes for the stage, then fn
// (either may be empty).
type commitJob struct {
	changes []alerting.Change
	fn      func(tx *store.Tx) error
	done    chan error
}

// newGroupCommit returns the group commit of db, handing jobs' alert
// changes to st.
func newGroupCommit(db *store.DB, st stage) *groupCommit {
	n := 4
	if db.Dialect().OneWriter() {
		n = 1
	}
	g := &groupCommit{db: db}
	for range n {
		g.shards = append(g.shards, &commitShard{db: db, stage: st})
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
	return g.doAlerts(ctx, shardKey, nil, fn)
}

// doAlerts is do, handing changes to the alert stage before fn runs, in
// one call with the changes of the transaction's other requests.
func (g *groupCommit) doAlerts(ctx context.Context, shardKey string, changes []alerting.Change, fn func(tx *store.Tx) error) error {
	h := fnv.New32a()
	h.Write([]byte(shardKey))
	s := g.shards[h.Sum32()%uint32(len(g.shards))]
	j := &commitJob{changes: changes, fn: fn, done: make(chan error, 1)}
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
	err := s.db.WithTx(ctx, func(tx *store.Tx) error { return s.run(ctx, tx, batch) })
	if err == nil || len(batch) == 1 {
		for _, j := range batch {
			j.done <- err
		}
		return
	}
	for _, j := range batch {
		j.done <- s.db.WithTx(ctx, func(tx *store.Tx) error { return s.run(ctx, tx, []*commitJob{j}) })
	}
}

// run runs jobs in tx: all their alert changes in one call to the stage,
// in the jobs' order, then their fns.
func (s *commitShard) run(ctx context.Context, tx *store.Tx, jobs []*commitJob) error {
	changes := jobs[0].changes
	if len(jobs) > 1 {
		changes = nil
		for _, j := range jobs {
			changes = append(changes, j.changes...)
		}
	}
	if len(changes) > 0 {
		if err := s.stage.HandleAll(ctx, tx, changes); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		if j.fn == nil {
			continue
		}
		if err := j.fn(tx); err != nil {
			return err
		}
	}
	return nil
}
