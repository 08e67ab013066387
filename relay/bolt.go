package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Defaults of OpenBolt.
const (
	// DefaultBoltLockTimeout is how long OpenBolt waits for the file's
	// lock before it says another process holds the file.
	DefaultBoltLockTimeout = time.Second
	// DefaultBoltBatchDelay is how long an Enqueue waits for others to
	// join its commit. bbolt's own default, 10ms, leaves the disk idle
	// while a batch waits: BenchmarkBoltEnqueue (32 senders, 4 KiB) did
	// about 2,000 accepts/s with it and 4,000-4,700 with 2ms, p99 lower.
	DefaultBoltBatchDelay = 2 * time.Millisecond
)

// BoltOption configures OpenBolt.
type BoltOption func(*boltOptions)

type boltOptions struct {
	lockTimeout time.Duration
	batchDelay  time.Duration
}

// BoltLockTimeout sets how long OpenBolt waits for a file another process
// holds (default DefaultBoltLockTimeout).
func BoltLockTimeout(d time.Duration) BoltOption {
	return func(o *boltOptions) { o.lockTimeout = d }
}

// BoltBatchDelay sets how long an Enqueue waits for other writes to share
// its commit and fsync (default DefaultBoltBatchDelay): longer waits give
// fewer fsyncs under load and a slower accept when idle.
func BoltBatchDelay(d time.Duration) BoltOption {
	return func(o *boltOptions) { o.batchDelay = d }
}

// Bucket names. Index keys are route, a NUL byte, a big-endian uint64 of
// Unix nanoseconds, and the message id, so that a cursor walks one route's
// messages in time order.
var (
	bktMsgs  = []byte("messages") // id -> Message (encodeMessage), queued or dead
	bktDue   = []byte("due")      // route|NextAt|id -> nil, queued only
	bktAge   = []byte("age")      // route|Created|id -> nil, queued only
	bktDead  = []byte("dead")     // route|Dead|id -> nil, dead only
	bktCount = []byte("counts")   // route -> bytes (8) | messages (8), queued only
)

// BoltStore is the Store of one machine: a bbolt file (one process holds
// it at a time; the caller shares one BoltStore across config reloads).
//
// Enqueue writes through DB.Batch, so concurrent accepts share one commit
// and one fsync, and returns after that commit: a message answered 202 is
// on disk. Leases live in this BoltStore's memory only: after a restart
// (a new BoltStore on the same file) every queued message is due again at
// its NextAt, including one whose delivery was under way when the process
// died. Delivery is therefore at least once: a SIGKILL after the receiver
// answered 2xx but before the Ack was committed delivers that message a
// second time after the restart (the receiver can tell by its id).
//
// Dead letters stay in the file, and do not count against max_queued,
// until they are replayed.
type BoltStore struct {
	db   *bolt.DB
	path string

	mu     sync.Mutex
	leases map[string]*boltLease // by message id
}

type boltLease struct {
	route string
	token string
	until time.Time
}

// OpenBolt opens (creating it and its directory if need be) the bbolt file
// at path, mode 0600.
func OpenBolt(path string, opts ...BoltOption) (*BoltStore, error) {
	o := boltOptions{lockTimeout: DefaultBoltLockTimeout, batchDelay: DefaultBoltBatchDelay}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("relay: bbolt store: no path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("relay: bbolt store %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: o.lockTimeout,
		// A queue's pages are freed as fast as they are used: the hash
		// map freelist, not written at every commit (etcd's settings; it
		// is rebuilt by a scan when the file is opened).
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
		// Mapped up front so that growing the file seldom waits for
		// readers to remap it (address space only).
		InitialMmapSize: 256 << 20,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("relay: bbolt store %s: another process (another Caddy?) has it open: could not lock it within %s", path, o.lockTimeout)
		}
		return nil, fmt.Errorf("relay: bbolt store %s: %w", path, err)
	}
	db.MaxBatchDelay = o.batchDelay
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktMsgs, bktDue, bktAge, bktDead, bktCount} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close() // the error that matters is err
		return nil, fmt.Errorf("relay: bbolt store %s: %w", path, err)
	}
	return &BoltStore{db: db, path: path, leases: make(map[string]*boltLease)}, nil
}

// Path is the file's path.
func (s *BoltStore) Path() string { return s.path }

// nanos is t as an index key's time: Unix nanoseconds, 0 for the zero time
// or anything before 1970.
func nanos(t time.Time) uint64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

func routePrefix(route string) []byte {
	return append([]byte(route), 0)
}

func indexKey(route string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(route)+1+8+len(id))
	k = append(k, route...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, nanos(t))
	return append(k, id...)
}

// splitIndexKey returns the time and id of an index key of prefix's route.
func splitIndexKey(prefix, k []byte) (uint64, string, bool) {
	if len(k) < len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
		return 0, "", false
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), string(k[len(prefix)+8:]), true
}

func getCounts(tx *bolt.Tx, route string) (size, n int64) {
	v := tx.Bucket(bktCount).Get([]byte(route))
	if len(v) != 16 {
		return 0, 0
	}
	// Written from non-negative int64s by this package.
	return int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:])) //nolint:gosec // G115: see above
}

func addCounts(tx *bolt.Tx, route string, size, n int64) error {
	s0, n0 := getCounts(tx, route)
	s0, n0 = max(s0+size, 0), max(n0+n, 0)
	if s0 == 0 && n0 == 0 {
		return tx.Bucket(bktCount).Delete([]byte(route))
	}
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(s0))
	binary.BigEndian.PutUint64(v[8:], uint64(n0))
	return tx.Bucket(bktCount).Put([]byte(route), v)
}

// A stored message is a 4-byte big-endian length, the message as JSON
// without its body, and the body's raw bytes (no base64 to write or fsync).
func encodeMessage(m *Message) ([]byte, error) {
	c := *m
	c.Body = nil
	j, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, 4+len(j)+len(m.Body))
	// The JSON holds a message's headers and URL, never its body: far
	// below 4 GiB (Caddy reads at most 1 MiB of request headers).
	v = binary.BigEndian.AppendUint32(v, uint32(len(j))) //nolint:gosec // G115: see above
	v = append(v, j...)
	return append(v, m.Body...), nil
}

func decodeMessage(v []byte) (*Message, error) {
	if len(v) < 4 || uint64(len(v)-4) < uint64(binary.BigEndian.Uint32(v)) { //nolint:gosec // G115: len(v) >= 4 here
		return nil, errors.New("truncated record")
	}
	n := 4 + int(binary.BigEndian.Uint32(v))
	m := new(Message)
	if err := json.Unmarshal(v[4:n], m); err != nil {
		return nil, err
	}
	m.Body = append([]byte(nil), v[n:]...) // v is only valid in its transaction
	return m, nil
}

func getMessage(tx *bolt.Tx, id string) (*Message, error) {
	v := tx.Bucket(bktMsgs).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	m, err := decodeMessage(v)
	if err != nil {
		return nil, fmt.Errorf("relay: bbolt store: message %q: %w", id, err)
	}
	return m, nil
}

func putMessage(tx *bolt.Tx, m *Message) error {
	v, err := encodeMessage(m)
	if err != nil {
		return err
	}
	return tx.Bucket(bktMsgs).Put([]byte(m.ID), v)
}

// Enqueue implements Store.
func (s *BoltStore) Enqueue(ctx context.Context, m *Message, maxBytes int64) error {
	if m.ID == "" || m.Route == "" {
		return errors.New("relay: message without id or route")
	}
	if strings.IndexByte(m.Route, 0) >= 0 {
		return errors.New("relay: a route name with a NUL byte")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stored := *m
	if stored.Created.IsZero() {
		stored.Created = time.Now()
	}
	if stored.NextAt.IsZero() {
		stored.NextAt = stored.Created
	}
	stored.Dead = time.Time{}
	v, err := encodeMessage(&stored)
	if err != nil {
		return err
	}
	size := stored.Size()
	id := []byte(stored.ID)
	dueKey := indexKey(stored.Route, stored.NextAt, stored.ID)
	ageKey := indexKey(stored.Route, stored.Created, stored.ID)
	// The function may run more than once (bbolt reruns a batch when one
	// of its functions fails): it sets its outcome afresh each time and
	// reports refusals through them, not as errors, so as not to make the
	// others' commit fail.
	var full, dup bool
	err = s.db.Batch(func(tx *bolt.Tx) error {
		full, dup = false, false
		if tx.Bucket(bktMsgs).Get(id) != nil {
			dup = true
			return nil
		}
		if maxBytes > 0 {
			if b, _ := getCounts(tx, stored.Route); b+size > maxBytes {
				full = true
				return nil
			}
		}
		if err := tx.Bucket(bktMsgs).Put(id, v); err != nil {
			return err
		}
		if err := tx.Bucket(bktDue).Put(dueKey, nil); err != nil {
			return err
		}
		if err := tx.Bucket(bktAge).Put(ageKey, nil); err != nil {
			return err
		}
		return addCounts(tx, stored.Route, size, 1)
	})
	switch {
	case err != nil:
		return fmt.Errorf("relay: bbolt store %s: %w", s.path, err)
	case full:
		return ErrFull
	case dup:
		return fmt.Errorf("relay: message id %q is taken", stored.ID)
	}
	return nil
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Lease implements Store.
func (s *BoltStore) Lease(ctx context.Context, route string, now time.Time, d time.Duration) (*Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m *Message
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := routePrefix(route)
		limit := nanos(now)
		c := tx.Bucket(bktDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil; k, _ = c.Next() {
			at, id, ok := splitIndexKey(prefix, k)
			if !ok || at > limit {
				return nil
			}
			if l := s.leases[id]; l != nil && l.until.After(now) {
				continue
			}
			var err error
			if m, err = getMessage(tx, id); err != nil {
				return err
			}
			return nil
		}
		return nil
	})
	if err != nil || m == nil {
		return nil, err
	}
	l := &boltLease{route: route, token: newToken(), until: now.Add(d)}
	s.leases[m.ID] = l
	return &Lease{Message: m, Token: l.token, Until: l.until}, nil
}

// hold checks that l is still the lease of its message and keeps anyone
// else from leasing the message while it is settled; release ends that.
func (s *BoltStore) hold(l *Lease) (*boltLease, error) {
	if l == nil || l.Message == nil {
		return nil, ErrLeaseLost
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bl := s.leases[l.Message.ID]
	if bl == nil || bl.token != l.Token || !bl.until.After(time.Now()) {
		return nil, ErrLeaseLost
	}
	held := *bl
	bl.until = time.Unix(0, math.MaxInt64) // settling: not handed out
	return &held, nil
}

// release ends a settle: the lease is gone if it committed, restored if
// not.
func (s *BoltStore) release(id string, held *boltLease, committed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bl := s.leases[id]; bl != nil && bl.token == held.token {
		if committed {
			delete(s.leases, id)
		} else {
			bl.until = held.until
		}
	}
}

func (s *BoltStore) settle(l *Lease, fn func(tx *bolt.Tx, stored *Message) error) error {
	held, err := s.hold(l)
	if err != nil {
		return err
	}
	id := l.Message.ID
	err = s.db.Batch(func(tx *bolt.Tx) error {
		stored, err := getMessage(tx, id)
		if err != nil {
			return err
		}
		if !stored.Dead.IsZero() {
			return ErrLeaseLost
		}
		return fn(tx, stored)
	})
	s.release(id, held, err == nil)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrLeaseLost) {
		err = fmt.Errorf("relay: bbolt store %s: %w", s.path, err)
	}
	return err
}

// unqueue removes stored from its route's queue indexes and counts.
func unqueue(tx *bolt.Tx, stored *Message) error {
	if err := tx.Bucket(bktDue).Delete(indexKey(stored.Route, stored.NextAt, stored.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(bktAge).Delete(indexKey(stored.Route, stored.Created, stored.ID)); err != nil {
		return err
	}
	return addCounts(tx, stored.Route, -stored.Size(), -1)
}

func recordAttempt(stored, from *Message) {
	stored.Attempts = from.Attempts
	stored.LastAttempt = from.LastAttempt
	stored.LastStatus = from.LastStatus
	stored.LastError = from.LastError
}

// Ack implements Store.
func (s *BoltStore) Ack(ctx context.Context, l *Lease) error {
	return s.settle(l, func(tx *bolt.Tx, stored *Message) error {
		if err := unqueue(tx, stored); err != nil {
			return err
		}
		return tx.Bucket(bktMsgs).Delete([]byte(stored.ID))
	})
}

// Retry implements Store.
func (s *BoltStore) Retry(ctx context.Context, l *Lease, next time.Time) error {
	return s.settle(l, func(tx *bolt.Tx, stored *Message) error {
		if err := tx.Bucket(bktDue).Delete(indexKey(stored.Route, stored.NextAt, stored.ID)); err != nil {
			return err
		}
		recordAttempt(stored, l.Message)
		stored.NextAt = next
		if err := tx.Bucket(bktDue).Put(indexKey(stored.Route, stored.NextAt, stored.ID), nil); err != nil {
			return err
		}
		return putMessage(tx, stored)
	})
}

// Bury implements Store.
func (s *BoltStore) Bury(ctx context.Context, l *Lease) error {
	dead := time.Now()
	return s.settle(l, func(tx *bolt.Tx, stored *Message) error {
		if err := unqueue(tx, stored); err != nil {
			return err
		}
		recordAttempt(stored, l.Message)
		stored.Dead = dead
		if err := tx.Bucket(bktDead).Put(indexKey(stored.Route, stored.Dead, stored.ID), nil); err != nil {
			return err
		}
		return putMessage(tx, stored)
	})
}

// Dead implements Store.
func (s *BoltStore) Dead(ctx context.Context, route string, limit int) ([]*Message, error) {
	var out []*Message
	err := s.db.View(func(tx *bolt.Tx) error {
		type entry struct {
			at uint64
			id string
		}
		var ids []entry
		c := tx.Bucket(bktDead).Cursor()
		if route != "" {
			prefix := routePrefix(route)
			for k, _ := c.Seek(prefix); k != nil; k, _ = c.Next() {
				at, id, ok := splitIndexKey(prefix, k)
				if !ok {
					break
				}
				ids = append(ids, entry{at, id})
				if limit > 0 && len(ids) == limit {
					break
				}
			}
		} else {
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				i := bytes.IndexByte(k, 0)
				if i < 0 {
					continue
				}
				at, id, ok := splitIndexKey(k[:i+1], k)
				if ok {
					ids = append(ids, entry{at, id})
				}
			}
			sort.Slice(ids, func(i, j int) bool {
				if ids[i].at != ids[j].at {
					return ids[i].at < ids[j].at
				}
				return ids[i].id < ids[j].id
			})
			if limit > 0 && len(ids) > limit {
				ids = ids[:limit]
			}
		}
		for _, e := range ids {
			m, err := getMessage(tx, e.id)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// Get implements Store.
func (s *BoltStore) Get(ctx context.Context, id string) (*Message, error) {
	var m *Message
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = getMessage(tx, id)
		return err
	})
	return m, err
}

// Replay implements Store. The message is queued as if accepted anew: due
// at now, its attempts at 0 and its max_age counted from now (Created is
// now), its last attempt kept for the record. It is queued even when that
// takes the route past max_queued.
func (s *BoltStore) Replay(ctx context.Context, id string, now time.Time) error {
	err := s.db.Batch(func(tx *bolt.Tx) error {
		m, err := getMessage(tx, id)
		if err != nil {
			return err
		}
		if m.Dead.IsZero() {
			return ErrNotFound
		}
		if err := tx.Bucket(bktDead).Delete(indexKey(m.Route, m.Dead, m.ID)); err != nil {
			return err
		}
		m.Dead = time.Time{}
		m.Attempts = 0
		m.Created = now
		m.NextAt = now
		if err := tx.Bucket(bktDue).Put(indexKey(m.Route, m.NextAt, m.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bktAge).Put(indexKey(m.Route, m.Created, m.ID), nil); err != nil {
			return err
		}
		if err := addCounts(tx, m.Route, m.Size(), 1); err != nil {
			return err
		}
		return putMessage(tx, m)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("relay: bbolt store %s: %w", s.path, err)
	}
	return err
}

// Stats implements Store.
func (s *BoltStore) Stats(ctx context.Context, route string, now time.Time) (Stats, error) {
	var st Stats
	err := s.db.View(func(tx *bolt.Tx) error {
		size, n := getCounts(tx, route)
		st.Queued, st.Bytes = int(n), size
		prefix := routePrefix(route)
		if k, _ := tx.Bucket(bktAge).Cursor().Seek(prefix); k != nil {
			if at, _, ok := splitIndexKey(prefix, k); ok {
				st.Oldest = time.Unix(0, int64(at)) //nolint:gosec // G115: written from a UnixNano by this package
			}
		}
		c := tx.Bucket(bktDead).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			st.Dead++
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, l := range s.leases {
		switch {
		case l.until.After(now):
			if l.route == route {
				st.InFlight++
			}
		case l.until.Before(time.Now()):
			delete(s.leases, id) // expired and never settled
		}
	}
	return st, nil
}

// Close implements Store.
func (s *BoltStore) Close() error {
	s.mu.Lock()
	clear(s.leases)
	s.mu.Unlock()
	return s.db.Close()
}

var _ Store = (*BoltStore)(nil)
