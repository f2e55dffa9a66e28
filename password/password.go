// Package password hashes and verifies user passwords with argon2id, in the
// PHC string format, so parameters can be raised later without breaking
// existing hashes.
//
// Every hash costs tens of MiB of memory, so a Hasher lets only a few run at
// once and makes the rest wait in a short queue: however many logins or
// password changes arrive together, memory stays bounded. Callers still
// rate-limit who may ask for a check; this package only bounds the cost.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Cost is argon2id's work factor: memory in KiB, passes over it and lanes
// (threads). It is written into every hash, so a hash stays verifiable when
// the cost of new hashes changes.
type Cost struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

// DefaultCost is the cost of new hashes in production: RFC 9106's second
// recommended option (64 MiB, 3 passes), with 2 lanes for small machines.
var DefaultCost = Cost{MemoryKiB: 64 * 1024, Passes: 3, Lanes: 2}

// TestCost is a cheap cost for tests, which hash hundreds of passwords
// and would spend most of their time in argon2 at DefaultCost. Hashes
// made with it are weak: never use it outside tests.
var TestCost = Cost{MemoryKiB: 64, Passes: 1, Lanes: 1}

// maxVerifyMemoryKiB bounds the memory a stored hash may ask Verify for
// (four times DefaultCost's), so one odd row cannot make a check take
// gigabytes.
const maxVerifyMemoryKiB = 4 * 64 * 1024

const (
	keyLen  = 32
	saltLen = 16
)

var b64 = base64.RawStdEncoding

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when so many password checks are waiting that one
// more would wait too long; the caller should ask the user to retry soon.
var ErrBusy = errors.New("too many password checks at once")

// Hasher hashes and verifies passwords at one cost, running at most a fixed
// number of argon2 computations at a time. It is safe for concurrent use;
// one Hasher serves a whole process.
type Hasher struct {
	cost Cost
	// slots holds a token per running computation; queue a token per
	// computation running or waiting, so waiters are bounded too.
	slots, queue chan struct{}
	// dummy is a hash at the Hasher's cost that no password matches.
	dummy string

	running, waiting, peak, total atomic.Int64
	// inside, when set by a test, runs while a computation holds its slot.
	inside func()
}

// DefaultConcurrency is how many hashes a Hasher runs at once when New is
// given 0: one per two CPUs (argon2 uses two lanes), at least one and at
// most four, so the default cost never holds more than 256 MiB.
func DefaultConcurrency() int {
	return min(max(runtime.GOMAXPROCS(0)/2, 1), 4)
}

// New returns a Hasher that makes new hashes at cost and runs at most
// concurrency computations at once (DefaultConcurrency when 0 or less).
// Up to 16 more per slot wait their turn; beyond that callers get ErrBusy.
func New(cost Cost, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency()
	}
	return &Hasher{cost: cost, slots: make(chan struct{}, concurrency), queue: make(chan struct{}, 17*concurrency),
		// Random bytes in place of a key: as costly to check as a real
		// hash, free to make, and matched by no password.
		dummy: format(cost, randomBytes(saltLen), randomBytes(keyLen))}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
	return b
}

func format(c Cost, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Passes, c.Lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Stats describes a Hasher's load, for metrics and tests.
type Stats struct {
	// Running is how many computations run now, Waiting how many wait
	// for a slot, Peak the most that ever ran at once, and Total how many
	// ran.
	Running, Waiting, Peak, Total int64
}

// Stats returns the Hasher's load.
func (h *Hasher) Stats() Stats {
	return Stats{Running: h.running.Load(), Waiting: h.waiting.Load(), Peak: h.peak.Load(), Total: h.total.Load()}
}

// Hash returns the argon2id hash of pw in PHC format.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := randomBytes(saltLen)
	key, err := h.compute(ctx, pw, salt, h.cost, keyLen)
	if err != nil {
		return "", err
	}
	return format(h.cost, salt, key), nil
}

// Verify checks pw against a hash made by Hash, in constant time. It
// returns ErrMismatch for a wrong password.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) error {
	c, salt, want, err := parse(hash)
	if err != nil {
		return err
	}
	got, err := h.compute(ctx, pw, salt, c, uint32(len(want)))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// VerifyNothing spends what a Verify of pw would, for a login that names
// no user, so a wrong email takes as long as a wrong password. It returns
// only errors that are not a mismatch (ErrBusy, a cancelled context).
func (h *Hasher) VerifyNothing(ctx context.Context, pw string) error {
	if err := h.Verify(ctx, h.dummy, pw); err != nil && !errors.Is(err, ErrMismatch) {
		return err
	}
	return nil
}

// compute runs one argon2id computation once a slot is free: it waits in
// the queue, or fails with ErrBusy when the queue is full, or with ctx's
// error when the caller gives up first.
func (h *Hasher) compute(ctx context.Context, pw string, salt []byte, c Cost, n uint32) ([]byte, error) {
	select {
	case h.queue <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-h.queue }()
	h.waiting.Add(1)
	select {
	case h.slots <- struct{}{}:
		h.waiting.Add(-1)
	case <-ctx.Done():
		h.waiting.Add(-1)
		return nil, fmt.Errorf("wait to check a password: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	now := h.running.Add(1)
	defer h.running.Add(-1)
	for p := h.peak.Load(); now > p && !h.peak.CompareAndSwap(p, now); p = h.peak.Load() {
	}
	h.total.Add(1)
	if h.inside != nil {
		h.inside()
	}
	return argon2.IDKey([]byte(pw), salt, c.Passes, c.MemoryKiB, c.Lanes, n), nil
}

// parse reads a PHC argon2id string.
func parse(hash string) (c Cost, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return c, nil, nil, errors.New("unsupported password hash format")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return c, nil, nil, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &c.MemoryKiB, &c.Passes, &c.Lanes); err != nil {
		return c, nil, nil, fmt.Errorf("parse argon2 parameters: %w", err)
	}
	if c.MemoryKiB > maxVerifyMemoryKiB || c.Passes == 0 || c.Passes > 100 || c.Lanes == 0 {
		return c, nil, nil, fmt.Errorf("argon2 parameters m=%d,t=%d,p=%d are out of range", c.MemoryKiB, c.Passes, c.Lanes)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return c, nil, nil, fmt.Errorf("decode salt: %w", err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return c, nil, nil, fmt.Errorf("decode key: %w", err)
	}
	if len(key) < 16 || len(key) > 64 {
		return c, nil, nil, fmt.Errorf("argon2 key of %d bytes is out of range", len(key))
	}
	return c, salt, key, nil
}
