package replay

import (
	"container/heap"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of MemoryOptions.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
)

// EntryOverhead is what the memory store counts for one key besides the
// key's bytes: the entry, its map slot and its heap slot, measured with
// runtime.ReadMemStats under a flood of distinct 64-byte keys (see
// TestMemoryBounds) and rounded up, so that Stats.Bytes is an upper
// estimate of the heap the entries take.
const EntryOverhead = 160

// ErrClosed is wrapped (with ErrUnavailable) by a Reserve on a closed
// store.
var ErrClosed = errors.New("replay store closed")

// MemoryOptions configures NewMemory. The zero value is usable.
type MemoryOptions struct {
	// MaxEntries bounds the keys held; default DefaultMaxEntries.
	MaxEntries int
	// MaxBytes bounds the estimated memory of the keys held (len(key) +
	// EntryOverhead each); default DefaultMaxBytes.
	MaxBytes int64
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Memory is a Store in this process's memory, bounded in entries and
// bytes. When a new key would pass a bound, expired keys go first, then
// the delivered keys closest to the end of their window (counted in
// Stats.Evicted: a replay of an evicted key within its window gets
// through, which the caller logs). Reservations are never evicted: that
// would let a copy through while the first is in flight. If only
// reservations fill the store, Reserve still succeeds and the store
// passes its bounds: each reservation belongs to a request in flight,
// which holds far more memory than its entry, so what bounds requests in
// flight (the server's limits, hold) bounds that excess too; refusing
// would answer 503 to honest senders instead.
//
// Every operation takes one mutex and costs O(log n) (two heaps keyed by
// expiry); expired keys are swept as operations go, so the store needs
// no goroutine. A Memory can be shared across config reloads (it holds
// no per-config state); Close is idempotent.
type Memory struct {
	maxEntries int
	maxBytes   int64
	now        func() time.Time
	epoch      time.Time // expiries are offsets from it, so a monotonic clock reading is kept

	mu      sync.Mutex
	closed  bool
	entries map[string]*entry
	held    expiryHeap // reservations, by end of hold
	done    expiryHeap // delivered keys, by end of window
	bytes   int64
	evicted int64
}

type entry struct {
	key       string
	tok       Token // while reserved; cleared on Commit so a delivered entry holds only its key
	expires   time.Duration
	index     int // in held or done
	delivered bool
}

// NewMemory returns an empty memory store.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		maxEntries: opts.MaxEntries,
		maxBytes:   opts.MaxBytes,
		now:        opts.Now,
		entries:    make(map[string]*entry),
	}
	if m.maxEntries <= 0 {
		m.maxEntries = DefaultMaxEntries
	}
	if m.maxBytes <= 0 {
		m.maxBytes = DefaultMaxBytes
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.epoch = m.now()
	return m
}

func entrySize(key string) int64 { return int64(len(key)) + EntryOverhead }

// clock is the time since the store was created: with time.Now both
// readings carry a monotonic clock, so a wall clock step moves no expiry.
func (m *Memory) clock() time.Duration { return m.now().Sub(m.epoch) }

// Reserve implements Store.
func (m *Memory) Reserve(_ context.Context, key string, hold time.Duration) (State, Token, error) {
	if hold <= 0 {
		return 0, "", fmt.Errorf("replay: hold %v is not positive", hold)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, "", fmt.Errorf("%w: %w", ErrUnavailable, ErrClosed)
	}
	now := m.clock()
	m.sweep(now)
	if e, ok := m.entries[key]; ok {
		// sweep removed every expired entry, so e is live.
		if e.delivered {
			return Delivered, "", nil
		}
		return InFlight, "", nil
	}
	m.makeRoom(entrySize(key))
	// rand.Text: 128 random bits, so no other request can name this
	// reservation; it never fails (Go 1.24+).
	e := &entry{key: key, tok: Token(rand.Text()), expires: now + hold}
	m.entries[key] = e
	m.bytes += entrySize(key)
	heap.Push(&m.held, e)
	return Reserved, e.tok, nil
}

// Commit implements Store. A closed store ignores it.
func (m *Memory) Commit(_ context.Context, key string, tok Token, window time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.owned(key, tok)
	if e == nil {
		return nil
	}
	heap.Remove(&m.held, e.index)
	if window <= 0 {
		// Nothing to remember: as good as released.
		m.remove(e)
		return nil
	}
	e.delivered = true
	e.tok = ""
	e.expires = m.clock() + window
	heap.Push(&m.done, e)
	return nil
}

// Release implements Store. A closed store ignores it.
func (m *Memory) Release(_ context.Context, key string, tok Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.owned(key, tok); e != nil {
		heap.Remove(&m.held, e.index)
		m.remove(e)
	}
	return nil
}

// owned returns key's live reservation if tok holds it.
func (m *Memory) owned(key string, tok Token) *entry {
	if m.closed || tok == "" {
		return nil
	}
	e, ok := m.entries[key]
	if !ok || e.delivered || e.tok != tok || e.expires <= m.clock() {
		return nil
	}
	return e
}

// remove forgets e, which the caller took out of its heap.
func (m *Memory) remove(e *entry) {
	delete(m.entries, e.key)
	m.bytes -= entrySize(e.key)
}

// sweep drops the entries whose hold or window has ended.
func (m *Memory) sweep(now time.Duration) {
	for _, h := range []*expiryHeap{&m.held, &m.done} {
		for h.Len() > 0 && (*h)[0].expires <= now {
			m.remove(heap.Pop(h).(*entry))
		}
	}
}

// makeRoom evicts delivered entries, those nearest the end of their
// window first (the least protection lost), until an entry of size fits.
func (m *Memory) makeRoom(size int64) {
	for (len(m.entries)+1 > m.maxEntries || m.bytes+size > m.maxBytes) && m.done.Len() > 0 {
		m.remove(heap.Pop(&m.done).(*entry))
		m.evicted++
	}
}

// Stats implements Store.
func (m *Memory) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Entries: int64(len(m.entries)), Bytes: m.bytes, Evicted: m.evicted}
}

// Close implements Store: it frees the entries. It is idempotent; after
// it, Reserve fails with ErrUnavailable and Commit and Release do
// nothing.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.entries, m.held, m.done, m.bytes = nil, nil, nil, 0
	return nil
}

// expiryHeap is a min-heap of entries by expiry, for container/heap.
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil // let the entry be collected
	*h = old[:len(old)-1]
	return e
}

// Destruct is Close under the name caddy.UsagePool calls when the last
// config using the store is unloaded, so the Caddy layer can pool the
// store itself across reloads.
func (m *Memory) Destruct() error { return m.Close() }

var _ Store = (*Memory)(nil)
