package spool

import (
	"math/bits"
	"sync"
)

// Body buffers are pooled by size class, 4 KiB << k up to 4 MiB: a
// webhook gateway reads every body whole, and at tens of KiB a request the
// allocations otherwise drive the garbage collector.
const (
	minClassShift = 12
	numClasses    = 11 // 4 KiB .. 4 MiB
)

var bufPools [numClasses]sync.Pool

// class returns the size class that holds n bytes, or -1 if none does.
func class(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= numClasses {
		return -1
	}
	return c
}

// allocSize is the capacity getBuf(n) returns, so that a budget can be
// charged for what a buffer really costs before it is taken.
func allocSize(n int) int {
	c := class(n)
	if c < 0 {
		return n
	}
	return 1 << (c + minClassShift)
}

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 1<<(c+minClassShift))
}

// putBuf returns a buffer from getBuf to its pool. Only call it when no
// one can read the buffer any more.
func putBuf(b []byte) {
	c := class(cap(b))
	if c < 0 || cap(b) != 1<<(c+minClassShift) {
		return
	}
	bufPools[c].Put(&b)
}
