package integrations

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// insertKey is a job that writes one integration key row named name.
func insertKey(projectID, name string, ran *sync.Map) func(tx *store.Tx) error {
	return func(tx *store.Tx) error {
		ran.Store(name, tx)
		_, err := tx.Exec(context.Background(), `INSERT INTO integration_keys (id, project_id, name, service, prefix, hash, created_at)
			VALUES ($1, $2, $3, 's', 'p', $4, 0)`, store.NewID(), projectID, name, store.HashSecret(name))
		return err
	}
}

func keyNames(t *testing.T, db *store.DB, projectID string) map[string]bool {
	t.Helper()
	names, err := store.QueryAll(context.Background(), db, "names", `SELECT name FROM integration_keys WHERE project_id = $1`, store.ScanString, projectID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// awaitPending waits until n jobs wait for the shard's next transaction.
func (s *commitShard) awaitPending(n int) {
	for {
		s.mu.Lock()
		queued := len(s.pending)
		s.mu.Unlock()
		if queued == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Requests that arrive while a transaction commits share the next one;
// each is answered after its own commit; one that fails the shared
// transaction is run again alone, so it fails alone.
func TestGroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		g := newGroupCommit(db, alerting.New(db))
		g.shards = g.shards[:1] // every job in one shard, to see them share
		s := g.shards[0]
		var ran sync.Map

		started, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- g.do(ctx, "k", func(tx *store.Tx) error {
				close(started)
				<-release
				return insertKey(p.ID, "first", &ran)(tx)
			})
		}()
		<-started
		const n = 10
		errs := make(chan error, n)
		for i := range n {
			name := fmt.Sprintf("job-%d", i)
			fn := insertKey(p.ID, name, &ran)
			if i == 3 {
				fn = func(*store.Tx) error { return errors.New("job 3 fails") }
			}
			go func() { errs <- g.do(ctx, "k", fn) }()
		}
		s.awaitPending(n)
		if got := keyNames(t, db, p.ID); len(got) != 0 {
			t.Fatalf("rows before any commit: %v", got)
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		failed := 0
		for range n {
			if err := <-errs; err != nil {
				failed++
				if err.Error() != "job 3 fails" {
					t.Fatalf("error %v", err)
				}
			}
		}
		got := keyNames(t, db, p.ID)
		if failed != 1 || len(got) != n || !got["first"] || got["job-3"] {
			t.Fatalf("%d failed; rows %v", failed, got)
		}
		// The nine good jobs ran together first (and were rolled back by
		// job 3), then each on its own.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.running || len(s.pending) != 0 {
			t.Fatalf("the shard is still busy: running %v, %d pending", s.running, len(s.pending))
		}
	})
}

// Without a failure, the requests queued behind a commit share one
// transaction.
func TestGroupCommitShares(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		g := newGroupCommit(db, alerting.New(db))
		g.shards = g.shards[:1]
		s := g.shards[0]
		var ran sync.Map
		started, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- g.do(ctx, "k", func(tx *store.Tx) error { close(started); <-release; return nil })
		}()
		<-started
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			fn := insertKey(p.ID, fmt.Sprintf("job-%d", i), &ran)
			go func() { errs <- g.do(ctx, "k", fn) }()
		}
		s.awaitPending(n)
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		txs := map[any]bool{}
		ran.Range(func(_, tx any) bool { txs[tx] = true; return true })
		if len(txs) != 1 || len(keyNames(t, db, p.ID)) != n {
			t.Fatalf("%d jobs ran in %d transactions", n, len(txs))
		}

		// A caller whose context ends stops waiting.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		block := make(chan struct{})
		defer close(block)
		go func() { _ = g.do(ctx, "k", func(*store.Tx) error { <-block; return nil }) }()
		if err := g.do(cctx, "k", func(*store.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled wait: %v", err)
		}
	})
}

// stageCalls records what a group commit hands the alert stage.
type stageCalls struct {
	mu    sync.Mutex
	calls [][]string
}

func (s *stageCalls) HandleAll(_ context.Context, _ *store.Tx, chs []alerting.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, ch := range chs {
		keys = append(keys, ch.Alert.DedupKey)
	}
	s.calls = append(s.calls, keys)
	return nil
}

// The alert changes of the requests sharing a transaction go to the stage
// in one call, in the order the requests came, so it reads their alerts'
// rows once.
func TestGroupCommitHandsChangesTogether(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	st := &stageCalls{}
	g := newGroupCommit(db, st)
	s := g.shards[0]
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.do(ctx, "k", func(*store.Tx) error { close(started); <-release; return nil })
	}()
	<-started
	changes := func(keys ...string) []alerting.Change {
		var out []alerting.Change
		for _, k := range keys {
			out = append(out, alerting.Change{Alert: &nightjar.Alert{DedupKey: k}})
		}
		return out
	}
	errs := make(chan error, 3)
	for i, keys := range [][]string{{"a", "b"}, {}, {"c"}} {
		go func() { errs <- g.doAlerts(ctx, "k", changes(keys...), nil) }()
		s.awaitPending(i + 1)
	}
	close(release)
	for _, c := range []chan error{first, errs, errs, errs} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if fmt.Sprint(st.calls) != "[[a b c]]" {
		t.Fatalf("the stage was called with %v, want one call with [a b c]", st.calls)
	}
}
