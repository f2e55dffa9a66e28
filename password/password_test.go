package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const phrase = "correct horse battery staple"

// The production cost is tested here, once; every other test in the
// module hashes at TestCost.
func TestHashVerifyDefaultCost(t *testing.T) {
	ctx := context.Background()
	h := New(DefaultCost, 0)
	hash, err := h.Hash(ctx, phrase)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q is not argon2id PHC with the expected parameters", hash)
	}
	if err := h.Verify(ctx, hash, phrase); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := h.Verify(ctx, hash, "wrong"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	if err := h.VerifyNothing(ctx, phrase); err != nil {
		t.Fatalf("dummy check: %v", err)
	}
	if got := h.Stats().Total; got != 4 {
		t.Fatalf("%d argon2 computations, want 4 (the dummy check costs one too)", got)
	}
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := New(TestCost, 0)
	hash, err := h.Hash(ctx, phrase)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not carry TestCost", hash)
	}
	// The cost comes from the hash, not from the Hasher checking it.
	if err := New(DefaultCost, 1).Verify(ctx, hash, phrase); err != nil {
		t.Fatalf("right password, other Hasher: %v", err)
	}
	if err := h.Verify(ctx, hash, "wrong"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	h2, _ := h.Hash(ctx, phrase)
	if hash == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for _, bad := range []string{"", "$bcrypt$x", "$argon2id$v=19$m=x$a$b", "$argon2id$v=18$m=1,t=1,p=1$YQ$YQ",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U", // 4 GiB
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$YQ",
	} {
		if err := h.Verify(ctx, bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", bad, err)
		}
	}
}

// block makes every computation of h wait inside its slot until release
// is closed.
func block(h *Hasher) (release func()) {
	ch := make(chan struct{})
	h.inside = func() { <-ch }
	return func() { close(ch) }
}

// settle waits until n computations run or wait for a slot: every caller
// has then gone as far as it can.
func settle(h *Hasher, n int64) {
	for {
		if s := h.Stats(); s.Running+s.Waiting == n {
			return
		}
		runtime.Gosched()
	}
}

// However many checks arrive at once, only the Hasher's slots compute
// (each holding argon2's memory); the rest wait and then all finish.
func TestConcurrencyIsBounded(t *testing.T) {
	const slots, callers = 2, 30
	h := New(TestCost, slots)
	hash, err := h.Hash(context.Background(), phrase)
	if err != nil {
		t.Fatal(err)
	}
	release := block(h)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := h.Hash(context.Background(), phrase)
				errs <- err
			} else {
				errs <- h.Verify(context.Background(), hash, phrase)
			}
		})
	}
	settle(h, callers)
	if s := h.Stats(); s.Running != slots || s.Waiting != callers-slots {
		t.Fatalf("with %d callers: %d computing, %d waiting; want %d computing", callers, s.Running, s.Waiting, slots)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := h.Stats(); s.Peak != slots || s.Total != callers+1 || s.Running != 0 || s.Waiting != 0 {
		t.Fatalf("stats after the burst: %+v", s)
	}
}

// The queue is bounded too: past it a check fails at once with ErrBusy
// rather than waiting behind hundreds of others. A caller that gives up
// leaves the queue.
func TestBusyAndCancel(t *testing.T) {
	h := New(TestCost, 1)
	release := block(h)
	queue := cap(h.queue)
	var wg sync.WaitGroup
	for range queue {
		wg.Go(func() { _, _ = h.Hash(context.Background(), phrase) })
	}
	settle(h, int64(queue))
	if _, err := h.Hash(context.Background(), phrase); !errors.Is(err, ErrBusy) {
		t.Fatalf("hash with a full queue: %v, want ErrBusy", err)
	}
	if err := h.VerifyNothing(context.Background(), phrase); !errors.Is(err, ErrBusy) {
		t.Fatalf("dummy check with a full queue: %v, want ErrBusy", err)
	}
	release()
	wg.Wait()

	h = New(TestCost, 1)
	release = block(h)
	wg.Go(func() { _, _ = h.Hash(context.Background(), phrase) })
	settle(h, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, phrase); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash after the caller gave up: %v", err)
	}
	release()
	wg.Wait()
	if s := h.Stats(); s.Total != 1 || s.Waiting != 0 || len(h.queue) != 0 {
		t.Fatalf("stats: %+v, queue %d", s, len(h.queue))
	}
}
