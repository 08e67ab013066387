package replay

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemorySemantics(t *testing.T) {
	clock := newFakeClock()
	testSemantics(t, func(t *testing.T) Store {
		m := NewMemory(MemoryOptions{Now: clock.Now})
		t.Cleanup(func() { m.Close() })
		return m
	}, clock.Advance)
}

func TestMemoryOneWinner(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	defer m.Close()
	testOneWinner(t, []Store{m})
}

// TestMemoryBounds floods the store with distinct keys, each reserved
// and committed as a delivered webhook: it stays within its bounds,
// evicting delivered keys, and its estimate of bytes is no less than
// what the heap really holds per entry.
func TestMemoryBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys: skipped under -short")
	}
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		maxEntries int
		maxBytes   int64
	}{
		{"entries bind", 100_000, DefaultMaxBytes},
		{"bytes bind", DefaultMaxEntries * 10, 8 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)

			m := NewMemory(MemoryOptions{MaxEntries: c.maxEntries, MaxBytes: c.maxBytes})
			const flood = 1_000_000
			for i := range flood {
				// 64 bytes, as a hex SHA-256 digest of a MAC.
				key := fmt.Sprintf("%064x", i)
				st, tok, err := m.Reserve(ctx, key, time.Minute)
				if err != nil || st != Reserved {
					t.Fatalf("key %d: %v %v", i, st, err)
				}
				if err := m.Commit(ctx, key, tok, 24*time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			s := m.Stats()
			runtime.GC()
			runtime.ReadMemStats(&after)
			heapPerEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(s.Entries)
			t.Logf("after %d keys: %d entries, %d bytes estimated (%.0f per entry), %d evicted; heap %.0f bytes per entry",
				flood, s.Entries, s.Bytes, float64(s.Bytes)/float64(s.Entries), s.Evicted, heapPerEntry)
			if s.Entries > int64(c.maxEntries) || s.Bytes > c.maxBytes {
				t.Errorf("over bounds: %+v, max %d entries, %d bytes", s, c.maxEntries, c.maxBytes)
			}
			if s.Evicted != flood-s.Entries {
				t.Errorf("evicted %d, want %d", s.Evicted, flood-s.Entries)
			}
			if est := float64(s.Bytes) / float64(s.Entries); heapPerEntry > est {
				t.Errorf("heap takes %.0f bytes per entry, the estimate %.0f: raise EntryOverhead", heapPerEntry, est)
			}
			// The newest keys are kept, the oldest evicted.
			if st, _, _ := m.Reserve(ctx, fmt.Sprintf("%064x", flood-1), time.Minute); st != Delivered {
				t.Errorf("newest key: %v", st)
			}
			if st, _, _ := m.Reserve(ctx, fmt.Sprintf("%064x", 0), time.Minute); st != Reserved {
				t.Errorf("oldest key: %v", st)
			}
			runtime.KeepAlive(m)
		})
	}
}

// TestMemoryEviction: expired keys go before delivered ones, and
// reservations are never evicted; when only reservations fill the store,
// Reserve still succeeds past the bound.
func TestMemoryEviction(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := NewMemory(MemoryOptions{MaxEntries: 3, Now: clock.Now})
	defer m.Close()
	res := func(key string) Token {
		t.Helper()
		st, tok, err := m.Reserve(ctx, key, time.Minute)
		if err != nil || st != Reserved {
			t.Fatalf("reserve %s: %v %v", key, st, err)
		}
		return tok
	}
	// d1 expires soon, d2 late; r1 stays in flight.
	m.Commit(ctx, "d1", res("d1"), time.Second)
	m.Commit(ctx, "d2", res("d2"), time.Hour)
	res("r1")
	clock.Advance(2 * time.Second)
	res("r2") // d1 expired: dropped, nothing evicted
	if s := m.Stats(); s.Entries != 3 || s.Evicted != 0 {
		t.Fatalf("after expiry: %+v", s)
	}
	res("r3") // full: d2 is evicted, not a reservation
	if s := m.Stats(); s.Entries != 3 || s.Evicted != 1 {
		t.Fatalf("after eviction: %+v", s)
	}
	res("r4") // only reservations: it still succeeds, past the bound
	if s := m.Stats(); s.Entries != 4 || s.Evicted != 1 {
		t.Fatalf("reservations only: %+v", s)
	}
	for _, k := range []string{"r1", "r2", "r3", "r4"} {
		if st, _, _ := m.Reserve(ctx, k, time.Minute); st != InFlight {
			t.Errorf("%s: %v, want in flight", k, st)
		}
	}
}

// TestMemoryClose: Close is idempotent; a closed store answers
// ErrUnavailable to Reserve and ignores Commit and Release.
func TestMemoryClose(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	_, tok, _ := m.Reserve(ctx, "k", time.Minute)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destruct(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Reserve(ctx, "k", time.Minute); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrClosed) {
		t.Errorf("reserve after close: %v", err)
	}
	if err := m.Commit(ctx, "k", tok, time.Minute); err != nil {
		t.Error(err)
	}
	if err := m.Release(ctx, "k", tok); err != nil {
		t.Error(err)
	}
	if s := m.Stats(); s.Entries != 0 || s.Bytes != 0 {
		t.Errorf("stats after close: %+v", s)
	}
}

func TestMemoryNonPositive(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	if _, _, err := m.Reserve(ctx, "k", 0); err == nil {
		t.Error("hold 0 accepted")
	}
	_, tok, _ := m.Reserve(ctx, "k", time.Minute)
	m.Commit(ctx, "k", tok, 0) // a window of 0 remembers nothing
	if st, _, _ := m.Reserve(ctx, "k", time.Minute); st != Reserved {
		t.Errorf("after commit with window 0: %v", st)
	}
}

func BenchmarkMemoryReserveCommit(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("%064x", i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		key := keys[i%len(keys)]
		st, tok, err := m.Reserve(ctx, key, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if st == Reserved {
			m.Commit(ctx, key, tok, time.Hour)
		}
	}
}

// BenchmarkMemoryReserveCommitParallel measures the mutex under
// contention (run with -cpu 1,2,...).
func BenchmarkMemoryReserveCommitParallel(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("%064x", i)
	}
	var next sync.Mutex
	n := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		i := n * 7919
		n++
		next.Unlock()
		for pb.Next() {
			key := keys[i%len(keys)]
			i++
			st, tok, err := m.Reserve(ctx, key, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if st == Reserved {
				m.Commit(ctx, key, tok, time.Hour)
			}
		}
	})
}
