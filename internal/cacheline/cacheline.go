// Package cacheline keeps hot atomic words apart, so that cores writing
// different words do not bounce one cache line between them (false
// sharing).
//
// Size is 64 bytes, the line of amd64 and of most arm64 cores. Some
// processors fetch lines in adjacent pairs; where that matters (the
// engine's shards) the layout adds a line of its own.
package cacheline

import "sync/atomic"

// Size is the cache line size that the padding assumes, in bytes.
const Size = 64

// Pad is one cache line of padding, to put between fields that different
// cores write.
type Pad [Size]byte

// Uint64 is an atomic.Uint64 alone on its cache line when the line starts
// at its address, as the first field of an allocation or an element of an
// array of Uint64 that starts on a line. Its zero value is 0 and ready to
// use; like atomic.Uint64, it must not be copied after first use.
type Uint64 struct {
	atomic.Uint64
	_ [Size - 8]byte
}
