package attribution

import "hash/maphash"

// traceIndex finds pending traces by id. It is a table of open addressing
// with linear probing, at most half full, whose deletions move the
// entries after them back, so that a stream of traces coming and going
// leaves no marks behind to probe past, as a map's deletions do. Ids are
// hashed with a random seed, so that ids chosen to collide cannot be sent
// on purpose.
//
// An entry holds the low 32 bits of its id's hash and the trace's place
// in the sampler's traces plus one, 0 being an empty place.
type traceIndex struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

func newTraceIndex() traceIndex {
	return traceIndex{seed: maphash.MakeSeed(), slots: make([]uint64, 64)}
}

func (x *traceIndex) hash(id *[16]byte) uint32 {
	return uint32(maphash.Bytes(x.seed, id[:]))
}

// find returns the place of the trace with id, whose hash is h, or none.
func (x *traceIndex) find(h uint32, id *[16]byte, traces []pendingTrace) int32 {
	mask := uint32(len(x.slots) - 1)
	for pos := h & mask; ; pos = (pos + 1) & mask {
		e := x.slots[pos]
		if e == 0 {
			return none
		}
		if uint32(e>>32) == h {
			if i := int32(uint32(e)) - 1; traces[i].id == *id {
				return i
			}
		}
	}
}

// insert adds the trace at place i, whose id's hash is h.
func (x *traceIndex) insert(h uint32, i int32) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]uint64, 2*len(old))
		x.n = 0
		for _, e := range old {
			if e != 0 {
				x.put(e)
			}
		}
	}
	x.put(uint64(h)<<32 | uint64(uint32(i+1)))
}

func (x *traceIndex) put(e uint64) {
	mask := uint32(len(x.slots) - 1)
	pos := uint32(e>>32) & mask
	for x.slots[pos] != 0 {
		pos = (pos + 1) & mask
	}
	x.slots[pos] = e
	x.n++
}

// remove takes out the trace at place i, whose id's hash is h.
func (x *traceIndex) remove(h uint32, i int32) {
	mask := uint32(len(x.slots) - 1)
	want := uint64(h)<<32 | uint64(uint32(i+1))
	hole := h & mask
	for x.slots[hole] != want {
		hole = (hole + 1) & mask
	}
	// Entries after the hole up to the next empty place move back into
	// it when their own place is not between the hole and where they
	// are, so that probing from their place still finds them.
	for j := (hole + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		home := uint32(x.slots[j]>>32) & mask
		if (j-home)&mask >= (j-hole)&mask {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = 0
	x.n--
}
