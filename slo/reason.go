package slo

import "strconv"

// reason is a text that every evaluation builds again, the same as the
// previous one most of the time, such as why a gate is closed: it is built
// in a buffer that is reused and made a string only when it changed, so
// that an evaluation giving the same reason allocates nothing. It belongs
// to the evaluator.
type reason struct {
	buf  []byte
	text string
}

// reset empties the text being built.
func (r *reason) reset() { r.buf = r.buf[:0] }

// add appends parts to the text, and first "; " when the text already
// says something: one reason of several.
func (r *reason) add(parts ...string) {
	if len(r.buf) > 0 {
		r.buf = append(r.buf, "; "...)
	}
	for _, p := range parts {
		r.buf = append(r.buf, p...)
	}
}

// addBudgetLeft adds that the named objective has remaining of its budget
// left, at most limit.
func (r *reason) addBudgetLeft(name string, remaining, limit float64) {
	r.add(name, " has ")
	r.percent(remaining)
	r.buf = append(r.buf, " of its budget left, at most "...)
	r.percent(limit)
}

// percent appends share as a percentage with one decimal, as "%.1f%%"
// formats share×100.
func (r *reason) percent(share float64) {
	r.buf = strconv.AppendFloat(r.buf, share*100, 'f', 1, 64)
	r.buf = append(r.buf, '%')
}

// String returns the text built since reset.
func (r *reason) String() string {
	if string(r.buf) != r.text {
		r.text = string(r.buf)
	}
	return r.text
}
