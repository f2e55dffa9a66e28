package checks

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
)

// ErrRecorderClosed is returned for pings submitted after Close.
var ErrRecorderClosed = errors.New("ping recorder is shutting down")

// Recorder groups concurrent pings into shared transactions (group
// commit). A ping's result is returned only after its transaction has
// committed, so every acknowledged ping is durable. While one batch
// commits, the next one fills up, so batches grow with load by themselves.
//
// On PostgreSQL several batches run at once, each on its own shard of
// checks (by check id or slug), so two batches never wait on one row. On
// SQLite one writer is all there is.
type Recorder struct {
	checks   *Service
	keep     int64
	maxBatch int
	shards   []chan *pendingPing
	wg       sync.WaitGroup
	mu       sync.RWMutex
	closed   bool
	// onBatch, when set, is told the size of each committed batch.
	onBatch func(n int)
}

type pendingPing struct {
	req  *PingRequest
	done chan PingResult
}

// NewRecorder starts the recorder's writers. keep is how many pings per
// check to retain (0 keeps all); onBatch, when not nil, is told the size
// of each committed batch.
func (s *Service) NewRecorder(keep int64, onBatch func(n int)) *Recorder {
	shards := 4
	if s.db.Dialect().OneWriter() {
		shards = 1
	}
	b := &Recorder{checks: s, keep: keep, maxBatch: 256, onBatch: onBatch}
	for i := 0; i < shards; i++ {
		ch := make(chan *pendingPing, 4096)
		b.shards = append(b.shards, ch)
		b.wg.Add(1)
		go b.run(ch)
	}
	return b
}

// Submit records one ping and waits until it is durable.
func (b *Recorder) Submit(ctx context.Context, req *PingRequest) PingResult {
	p := &pendingPing{req: req, done: make(chan PingResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return PingResult{Err: ErrRecorderClosed}
	}
	h := fnv.New32a()
	h.Write([]byte(req.CheckID))
	h.Write([]byte(req.PingKey))
	h.Write([]byte(req.Slug))
	shard := b.shards[h.Sum32()%uint32(len(b.shards))]
	select {
	case shard <- p:
	case <-ctx.Done():
		b.mu.RUnlock()
		return PingResult{Err: ctx.Err()}
	}
	b.mu.RUnlock()
	select {
	case res := <-p.done:
		return res
	case <-ctx.Done():
		return PingResult{Err: ctx.Err()}
	}
}

func (b *Recorder) run(ch chan *pendingPing) {
	defer b.wg.Done()
	batch := make([]*pendingPing, 0, b.maxBatch)
	reqs := make([]*PingRequest, 0, b.maxBatch)
	for first := range ch {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < b.maxBatch {
			select {
			case p, ok := <-ch:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		reqs = reqs[:0]
		for _, p := range batch {
			reqs = append(reqs, p.req)
		}
		// The batch commits even if a waiting client went away: it may
		// have been acknowledged to others in the same batch.
		results := b.checks.RecordPings(context.Background(), reqs, b.keep)
		for i, p := range batch {
			p.done <- results[i]
		}
		if b.onBatch != nil {
			b.onBatch(len(batch))
		}
	}
}

// Close stops accepting pings, records those already queued and returns
// when all are done.
func (b *Recorder) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, ch := range b.shards {
			close(ch)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
}
