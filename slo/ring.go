package slo

// ring keeps the latest values pushed, at most its capacity: once full, a
// push overwrites the oldest. It is the one bounded buffer of the engine:
// the history's samples (history.go), the event timeline (dispatch.go) and
// the control signal's memory (shed.go's meter) are rings.
//
// The zero value holds nothing and drops every push; newRing gives it a
// capacity. A ring is not safe for concurrent use: its owner guards it.
type ring[T any] struct {
	buf  []T
	next int // slot of the next push
	n    int // values held, at most len(buf)
}

func newRing[T any](size int) ring[T] { return ring[T]{buf: make([]T, size)} }

// push adds v as the newest value.
func (r *ring[T]) push(v T) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = v
	r.next++
	if r.next == len(r.buf) {
		r.next = 0
	}
	r.n = min(r.n+1, len(r.buf))
}

// full reports whether the next push overwrites the oldest value (always
// for the zero ring).
func (r *ring[T]) full() bool { return r.n == len(r.buf) }

// reset empties the ring.
func (r *ring[T]) reset() { r.next, r.n = 0, 0 }

// len returns how many values the ring holds.
func (r *ring[T]) len() int { return r.n }

// at returns the i-th oldest value held, for i from 0 to len()-1.
func (r *ring[T]) at(i int) T {
	return r.buf[(r.next-r.n+i+len(r.buf))%len(r.buf)]
}

// appendTo appends the values held to dst, oldest first, and returns it.
func (r *ring[T]) appendTo(dst []T) []T {
	start := r.next - r.n
	if start < 0 {
		dst = append(dst, r.buf[start+len(r.buf):]...)
		start = 0
	}
	return append(dst, r.buf[start:r.next]...)
}
