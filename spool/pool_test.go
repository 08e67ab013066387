package spool

import (
	"bytes"
	"io"
	"testing"
)

func TestBufferClasses(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4097, 100_000, 1 << 20, 4 << 20} {
		b := getBuf(n)
		if cap(b) < n || len(b) != 0 || cap(b) != allocSize(n) {
			t.Fatalf("getBuf(%d): len %d cap %d, allocSize %d", n, len(b), cap(b), allocSize(n))
		}
		putBuf(b)
	}
	if b := getBuf(5 << 20); cap(b) < 5<<20 || allocSize(5<<20) != 5<<20 {
		t.Fatal("an unpooled size is too small")
	}
}

// A transport may Close from one goroutine while its write loop reads
// from another; run with -race.
func TestConcurrentClose(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 64<<10)
	for _, limit := range []int64{0, 1 << 20} {
		budget := NewBudget(limit)
		for range 50 {
			b, err := Read(bytes.NewReader(data), int64(len(data)), budget, t.TempDir(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				io.Copy(io.Discard, b)
			}()
			b.Close()
			<-done
			b.Close()
			b.Release()
		}
		if budget.Used() != 0 {
			t.Fatalf("%d bytes charged after every body was released", budget.Used())
		}
	}
}
