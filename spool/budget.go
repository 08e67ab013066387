// Package spool holds request bodies while they are checked, in memory up
// to a byte budget shared by the bodies in flight, and in a temporary file
// beyond it, so that a burst of large bodies cannot exhaust memory. It is
// plain Go: no Caddy import.
package spool

import "sync/atomic"

// Budget is a number of bytes that the bodies read through it may hold in
// memory at once. It is safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes. A limit of 0 or less holds
// nothing in memory: every body goes to a file.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit}
}

// TryReserve takes n bytes from the budget if they are all there, and
// reports whether it did. It never waits: a body that cannot have memory
// goes to a file rather than queue behind the others.
func (b *Budget) TryReserve(n int64) bool {
	if n <= 0 {
		return true
	}
	for {
		used := b.used.Load()
		if used+n > b.limit || used+n < used {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with TryReserve.
func (b *Budget) Release(n int64) {
	if n > 0 {
		b.used.Add(-n)
	}
}

// Used is the number of bytes reserved now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit is the size of the budget.
func (b *Budget) Limit() int64 { return b.limit }
