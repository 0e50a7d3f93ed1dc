package slo

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/sloguard/sloguard/internal/cacheline"
)

// shards are the counters that every request adds to, striped so that
// cores do not bounce one cache line between them: each shard is a block
// of counters on cache lines of its own, and a request adds to the shard
// of the processor (P) it runs on, so that each core writes its own lines;
// the evaluator and the gate's fold read the sum of all shards.
//
// The shard is picked by the processor's id, read from the runtime
// (procPin). An earlier version kept one shard per processor in a
// sync.Pool; the pool hands out a new shard when a processor finds its own
// missing (a goroutine that moved to another processor between Get and
// Put took it along, or a collection dropped it), and the new one could be
// another processor's, so that two cores shared a shard and its lines
// until the next collection. The processor's id needs no pool and no
// allocation and does not change. A goroutine that moves to another
// processor right after reading the id adds to that processor's shard
// once: the counts stay exact, since every add is atomic and readers sum
// all shards. If GOMAXPROCS grows after New, processors share shards
// (the ids wrap), and the counts stay exact likewise.
//
// A shard holds the gate's window counters (see window) and the
// cumulative outcomes of every Recorder.
type shards struct {
	stride int // uint64s per shard, a whole number of cache lines
	n      int // a power of two
	base   int // index in words of the first shard's first word
	words  []uint64
	all    []shard
}

// procPin and procUnpin are the runtime's: procPin returns the id of the
// processor the goroutine runs on and keeps it there until procUnpin. The
// runtime keeps both for packages that link to them (go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// shard is one stripe: its words in shards.words.
type shard struct{ w []uint64 }

// Offsets of the gate's counters in a shard; the recorders' outcomes
// follow, 4 words each (budget.Outcome up to Shed).
const (
	offArrived  = 0
	offRejected = offArrived + bands
	offDone     = offRejected + bands
	offGood     = offDone + bands // packed with the latencies: see goodWord
	offInflight = offGood + bands // by band, as int64: see gate
	offSnap     = offInflight + bands
	offGated    = offSnap + 1 // requests the gate itself rejected
	offOutcomes = offGated + 1
)

func newShards(recorders int) *shards {
	n := 1
	for n < runtime.GOMAXPROCS(0) {
		n *= 2
	}
	const line = cacheline.Size / 8 // words
	words := offOutcomes + 4*recorders
	// Whole cache lines, and one line more between shards, which the
	// adjacent-line prefetcher of many processors fetches in pairs.
	stride := (words+line-1)/line*line + line
	buf := make([]uint64, stride*n+line)
	// The first word of the first shard on a line boundary.
	skip := int((cacheline.Size - uintptr(unsafe.Pointer(&buf[0]))%cacheline.Size) % cacheline.Size / 8)
	s := &shards{stride: stride, n: n, base: skip, words: buf}
	s.all = make([]shard, n)
	for i := range s.all {
		s.all[i] = *s.at(i)
	}
	return s
}

// get returns the shard of the processor the goroutine runs on.
func (s *shards) get() *shard {
	p := procPin()
	procUnpin()
	return &s.all[p&(s.n-1)]
}

func (x *shard) add(i int, v uint64) { atomic.AddUint64(&x.w[i], v) }

// addInt adds v to word i as an int64 and returns the new value.
func (x *shard) addInt(i int, v int64) int64 { return int64(atomic.AddUint64(&x.w[i], uint64(v))) }

func (x *shard) loadInt(i int) int64 { return int64(atomic.LoadUint64(&x.w[i])) }

// at returns shard k.
func (s *shards) at(k int) *shard {
	from := s.base + k*s.stride
	return &shard{w: s.words[from : from+s.stride : from+s.stride]}
}

// sum returns the sum of word i over all shards.
func (s *shards) sum(i int) uint64 {
	var t uint64
	for k := range s.n {
		t += atomic.LoadUint64(&s.words[s.base+k*s.stride+i])
	}
	return t
}

// window returns the gate's cumulative counters.
func (s *shards) window() window {
	var w window
	for b := range bands {
		w.arrived[b] = s.sum(offArrived + b)
		w.rejected[b] = s.sum(offRejected + b)
		w.done[b] = s.sum(offDone + b)
		w.goodWord[b] = s.sum(offGood + b)
	}
	return w
}
