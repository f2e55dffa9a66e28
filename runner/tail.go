package runner

import (
	"io"
	"sync"
)

// tail keeps the last size bytes written to it and counts all bytes, so a
// job's output can be reported without holding all of it in memory.
type tail struct {
	size  int
	buf   []byte // grows to size, then wraps
	start int    // index of the oldest byte once buf is full
	total int64
}

func newTail(size int) *tail {
	if size < 0 {
		size = 0
	}
	return &tail{size: size}
}

// Write records p; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	t.total += int64(n)
	if t.size == 0 {
		return n, nil
	}
	if len(p) >= t.size {
		if t.buf == nil {
			t.buf = make([]byte, 0, t.size)
		}
		t.buf = append(t.buf[:0], p[len(p)-t.size:]...)
		t.start = 0
		return n, nil
	}
	if len(t.buf) < t.size {
		if t.buf == nil {
			t.buf = make([]byte, 0, t.size)
		}
		k := min(t.size-len(t.buf), len(p))
		t.buf = append(t.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(t.buf[t.start:], p)
		p = p[k:]
		t.start = (t.start + k) % t.size
	}
	return n, nil
}

// Bytes returns the kept bytes, oldest first.
func (t *tail) Bytes() []byte {
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.start:]...)
	return append(out, t.buf[:t.start]...)
}

// Total returns how many bytes were written in all.
func (t *tail) Total() int64 { return t.total }

// tee passes a stream through to its destination and records it in a tail
// shared with the other stream. One mutex serialises both streams, which
// keeps the tail in arrival order and protects destinations that are the
// same writer for stdout and stderr.
type tee struct {
	mu   *sync.Mutex
	tail *tail
	dst  io.Writer
	// dstErr remembers a failed destination: the job keeps running and
	// its output keeps reaching the tail, but is no longer passed on.
	dstErr  error
	onError func(error)
}

func (w *tee) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.tail.Write(p)
	if w.dstErr == nil {
		if _, err := w.dst.Write(p); err != nil {
			w.dstErr = err
			if w.onError != nil {
				w.onError(err)
			}
		}
	}
	return len(p), nil
}
