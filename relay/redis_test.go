package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/replay/redistest"
)

// The helpers here are named redis* so that they cannot clash with the
// conformance suite's.

func redisOpenTest(t testing.TB, opts RedisOptions) *RedisStore {
	t.Helper()
	r, err := OpenRedis(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// redisTestPrefix keeps tests that share a server apart.
func redisTestPrefix(t testing.TB) string { return "test:" + t.Name() + ":" }

// redisSecretBody and redisSecretHeader mark content that no error may
// carry.
const (
	redisSecretBody   = "BODY-d9f1c2-must-not-leak"
	redisSecretHeader = "HEADER-7a3e55-must-not-leak"
)

// redisT0 is the tests' "now": the real time (a lease expires by the
// real clock for Ack, Retry and Bury), with nanoseconds kept.
var redisT0 = time.Now()

func redisMsg(id, route string, next time.Time) *Message {
	return &Message{
		ID: id, Route: route, URL: "https://receiver.test/hook?x=1", Method: http.MethodPost,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Token": {redisSecretHeader}},
		// Not valid UTF-8, and a NUL: stored byte for byte.
		Body:    append([]byte(`{"secret":"`+redisSecretBody+`"}`), 0xff, 0x00, 0xfe),
		Created: next, NextAt: next,
	}
}

func redisMustEnqueue(t testing.TB, s Store, m *Message, maxBytes int64) {
	t.Helper()
	if err := s.Enqueue(context.Background(), m, maxBytes); err != nil {
		t.Fatalf("enqueue %s: %v", m.ID, err)
	}
}

func redisMustLease(t testing.TB, s Store, route string, now time.Time, d time.Duration) *Lease {
	t.Helper()
	l, err := s.Lease(context.Background(), route, now, d)
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	if l == nil {
		t.Fatalf("lease at %v: nothing due", now)
	}
	return l
}

func redisNoLease(t testing.TB, s Store, route string, now time.Time) {
	t.Helper()
	l, err := s.Lease(context.Background(), route, now, time.Minute)
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	if l != nil {
		t.Fatalf("lease at %v: got %s, want nothing due", now, l.Message.ID)
	}
}

func redisStats(t testing.TB, s Store, route string, now time.Time) Stats {
	t.Helper()
	st, err := s.Stats(context.Background(), route, now)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st
}

// redisSameMessage compares what a store gives back with what was put in.
func redisSameMessage(t testing.TB, got, want *Message) {
	t.Helper()
	if got.ID != want.ID || got.Route != want.Route || got.URL != want.URL || got.Method != want.Method ||
		!bytes.Equal(got.Body, want.Body) || !reflect.DeepEqual(got.Header, want.Header) ||
		!got.Created.Equal(want.Created) || !got.NextAt.Equal(want.NextAt) || got.Attempts != want.Attempts ||
		!got.LastAttempt.Equal(want.LastAttempt) || got.LastStatus != want.LastStatus || got.LastError != want.LastError {
		t.Fatalf("message differs:\ngot  %+v\nwant %+v", got, want)
	}
}

// TestRedisStoreLifecycle: enqueue, get, lease (not before it is due, one
// holder at a time), stats, ack.
func TestRedisStoreLifecycle(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})

	m := redisMsg("m1", "r", redisT0.Add(time.Second))
	m.Created = redisT0
	redisMustEnqueue(t, s, m, 0)
	got, err := s.Get(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	redisSameMessage(t, got, m)
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	if st := redisStats(t, s, "r", redisT0); st.Queued != 1 || st.Bytes != m.Size() || st.InFlight != 0 ||
		!st.Oldest.Equal(redisT0) || st.Dead != 0 {
		t.Fatalf("stats after enqueue: %+v (size %d)", st, m.Size())
	}

	redisNoLease(t, s, "r", redisT0)                         // not due yet
	redisNoLease(t, s, "other", redisT0.Add(time.Hour))      // another route's
	l := redisMustLease(t, s, "r", m.NextAt, 10*time.Minute) // due exactly at NextAt
	redisSameMessage(t, l.Message, m)
	if l.Token == "" || !l.Until.Equal(m.NextAt.Add(10*time.Minute)) {
		t.Fatalf("lease token %q until %v", l.Token, l.Until)
	}
	redisNoLease(t, s, "r", m.NextAt.Add(10*time.Minute-time.Microsecond)) // leased
	if st := redisStats(t, s, "r", m.NextAt); st.Queued != 1 || st.InFlight != 1 || st.Bytes != m.Size() {
		t.Fatalf("stats while leased: %+v", st)
	}
	if st := redisStats(t, s, "r", l.Until); st.InFlight != 0 {
		t.Fatalf("stats once the lease expired: %+v", st)
	}

	if err := s.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "m1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after ack: %v", err)
	}
	if st := redisStats(t, s, "r", m.NextAt); st != (Stats{}) {
		t.Fatalf("stats after ack: %+v", st)
	}
	if err := s.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second ack: %v", err)
	}
	redisNoLease(t, s, "r", redisT0.Add(time.Hour))
}

// TestRedisStoreRetry: a retry records the attempt and makes the message
// due at next, body and headers unchanged.
func TestRedisStoreRetry(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	m := redisMsg("m1", "r", redisT0)
	redisMustEnqueue(t, s, m, 0)

	want := *m
	for attempt := 1; attempt <= 3; attempt++ {
		now := want.NextAt
		l := redisMustLease(t, s, "r", now, time.Minute)
		redisSameMessage(t, l.Message, &want)
		l.Message.Attempts++
		l.Message.LastAttempt = now
		l.Message.LastStatus = 500 + attempt
		l.Message.LastError = fmt.Sprint("attempt ", attempt)
		next := now.Add(time.Duration(attempt) * time.Minute)
		if err := s.Retry(ctx, l, next); err != nil {
			t.Fatal(err)
		}
		want = *l.Message
		want.NextAt = next
		redisNoLease(t, s, "r", next.Add(-time.Millisecond))
		if st := redisStats(t, s, "r", now); st.Queued != 1 || st.InFlight != 0 || st.Bytes != m.Size() {
			t.Fatalf("stats after retry: %+v", st)
		}
		if err := s.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("ack of a retried lease: %v", err)
		}
	}
	got, err := s.Get(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	redisSameMessage(t, got, &want)
	if got.Attempts != 3 || got.LastStatus != 503 {
		t.Fatalf("after 3 retries: %+v", got)
	}
}

// TestRedisStoreLeaseExpiry: a lease that expires makes the message due
// again; the old holder can then neither ack, retry nor bury it.
func TestRedisStoreLeaseExpiry(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	redisMustEnqueue(t, s, redisMsg("m1", "r", redisT0), 0)

	old := redisMustLease(t, s, "r", redisT0, 10*time.Minute)
	redisNoLease(t, s, "r", redisT0.Add(10*time.Minute-time.Microsecond))
	cur := redisMustLease(t, s, "r", redisT0.Add(10*time.Minute), 10*time.Minute)
	if cur.Token == old.Token || cur.Message.ID != "m1" {
		t.Fatalf("takeover: %+v after %+v", cur, old)
	}
	if err := s.Ack(ctx, old); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("ack by the old holder: %v", err)
	}
	if err := s.Retry(ctx, old, redisT0); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("retry by the old holder: %v", err)
	}
	if err := s.Bury(ctx, old); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("bury by the old holder: %v", err)
	}
	// A made-up token does no better.
	if err := s.Ack(ctx, &Lease{Message: cur.Message, Token: "guess"}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("ack with a made-up token: %v", err)
	}
	if err := s.Ack(ctx, cur); err != nil {
		t.Fatal(err)
	}
}

// TestRedisStoreDeadAndReplay: bury, list the dead (per route, all
// routes, oldest first, limited), replay (due now, attempts reset).
func TestRedisStoreDeadAndReplay(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})

	var order []string
	for i, route := range []string{"a", "b", "a"} {
		id := fmt.Sprintf("m%d", i)
		redisMustEnqueue(t, s, redisMsg(id, route, redisT0), 0)
		l := redisMustLease(t, s, route, redisT0, time.Minute)
		l.Message.Attempts = 2
		l.Message.LastStatus = http.StatusGone
		l.Message.LastAttempt = redisT0
		if err := s.Bury(ctx, l); err != nil {
			t.Fatal(err)
		}
		order = append(order, l.Message.ID)
		time.Sleep(time.Millisecond) // distinct dead times
	}
	ids := func(ms []*Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	all, err := s.Dead(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(all), order) {
		t.Fatalf("dead, every route: %v, want %v", ids(all), order)
	}
	for _, m := range all {
		if m.Dead.IsZero() || m.Attempts != 2 || m.LastStatus != http.StatusGone || !bytes.Equal(m.Body, redisMsg("", "", redisT0).Body) {
			t.Fatalf("dead letter %+v", m)
		}
	}
	if a, _ := s.Dead(ctx, "a", 0); !slices.Equal(ids(a), []string{order[0], order[2]}) {
		t.Fatalf("dead of a: %v", ids(a))
	}
	if one, _ := s.Dead(ctx, "", 1); !slices.Equal(ids(one), order[:1]) {
		t.Fatalf("dead, limit 1: %v", ids(one))
	}
	if st := redisStats(t, s, "a", redisT0); st != (Stats{Dead: 2}) {
		t.Fatalf("stats of a: %+v", st)
	}
	redisNoLease(t, s, "a", redisT0.Add(time.Hour))

	if err := s.Replay(ctx, "nope", redisT0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replay unknown: %v", err)
	}
	now := redisT0.Add(time.Hour)
	if err := s.Replay(ctx, order[0], now); err != nil {
		t.Fatal(err)
	}
	if err := s.Replay(ctx, order[0], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replay of a queued message: %v", err)
	}
	if st := redisStats(t, s, "a", now); st.Queued != 1 || st.Dead != 1 || st.Bytes != redisMsg(order[0], "a", now).Size() ||
		!st.Oldest.Equal(now) { // accepted anew at the replay, as bbolt does
		t.Fatalf("stats after replay: %+v", st)
	}
	if a, _ := s.Dead(ctx, "a", 0); !slices.Equal(ids(a), order[2:]) {
		t.Fatalf("dead of a after replay: %v", ids(a))
	}
	redisNoLease(t, s, "a", now.Add(-time.Millisecond))
	l := redisMustLease(t, s, "a", now, time.Minute)
	if l.Message.ID != order[0] || l.Message.Attempts != 0 || !l.Message.Dead.IsZero() || !l.Message.NextAt.Equal(now) {
		t.Fatalf("replayed: %+v", l.Message)
	}
	if err := s.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
}

// TestRedisStoreFull: a route holds at most maxBytes (one message of any
// size when empty); other routes and unbounded enqueues are not refused;
// acked and dead messages free their bytes.
func TestRedisStoreFull(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	size := redisMsg("x", "r", redisT0).Size()
	max := 2*size + size/2

	redisMustEnqueue(t, s, redisMsg("m1", "r", redisT0), max)
	redisMustEnqueue(t, s, redisMsg("m2", "r", redisT0), max)
	if err := s.Enqueue(ctx, redisMsg("m3", "r", redisT0), max); !errors.Is(err, ErrFull) {
		t.Fatalf("enqueue over max: %v", err)
	}
	if _, err := s.Get(ctx, "m3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused message stored: %v", err)
	}
	if st := redisStats(t, s, "r", redisT0); st.Queued != 2 || st.Bytes != 2*size {
		t.Fatalf("stats when full: %+v", st)
	}
	redisMustEnqueue(t, s, redisMsg("o1", "other", redisT0), max)
	redisMustEnqueue(t, s, redisMsg("o2", "big", redisT0), 1) // one message, however big, into an empty route...
	if err := s.Enqueue(ctx, redisMsg("o3", "big", redisT0), 1); !errors.Is(err, ErrFull) {
		t.Fatalf("...but not a second: %v", err)
	}

	l := redisMustLease(t, s, "r", redisT0, time.Minute)
	if err := s.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	redisMustEnqueue(t, s, redisMsg("m3", "r", redisT0), max)
	l = redisMustLease(t, s, "r", redisT0, time.Minute)
	if err := s.Bury(ctx, l); err != nil {
		t.Fatal(err)
	}
	redisMustEnqueue(t, s, redisMsg("m4", "r", redisT0), max)
	redisMustEnqueue(t, s, redisMsg("m5", "r", redisT0), 0) // no bound
}

// TestRedisStoreFullConcurrent: 50 enqueues at once on two clients never
// put more than maxBytes in the route.
func TestRedisStoreFullConcurrent(t *testing.T) {
	srv := redistest.Start(t)
	opts := RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)}
	stores := []*RedisStore{redisOpenTest(t, opts), redisOpenTest(t, opts)}
	size := redisMsg("x00", "r", redisT0).Size()
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			err := stores[i%2].Enqueue(context.Background(), redisMsg(fmt.Sprintf("x%02d", i), "r", redisT0), 10*size)
			switch {
			case err == nil:
				accepted.Add(1)
			case !errors.Is(err, ErrFull):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if st := redisStats(t, stores[0], "r", redisT0); accepted.Load() != 10 || st.Queued != 10 || st.Bytes != 10*size {
		t.Fatalf("accepted %d, stats %+v", accepted.Load(), st)
	}
}

// TestRedisStoreOrder: messages are leased earliest due first.
func TestRedisStoreOrder(t *testing.T) {
	srv := redistest.Start(t)
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	for i, off := range []int{3, 1, 2} {
		m := redisMsg(fmt.Sprint("m", off), "r", redisT0.Add(time.Duration(off)*time.Second))
		m.Created = redisT0.Add(time.Duration(i) * time.Second)
		redisMustEnqueue(t, s, m, 0)
	}
	if st := redisStats(t, s, "r", redisT0); !st.Oldest.Equal(redisT0) {
		t.Fatalf("oldest %v, want %v", st.Oldest, redisT0)
	}
	now := redisT0.Add(time.Hour)
	for _, want := range []string{"m1", "m2", "m3"} {
		if l := redisMustLease(t, s, "r", now, time.Minute); l.Message.ID != want {
			t.Fatalf("leased %s, want %s", l.Message.ID, want)
		}
	}
	redisNoLease(t, s, "r", now)
}

// TestRedisStoreEnqueueTwice: an enqueue that runs twice (go-redis
// retrying a command whose answer was lost) stores and counts it once.
func TestRedisStoreEnqueueTwice(t *testing.T) {
	srv := redistest.Start(t)
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	m := redisMsg("m1", "r", redisT0)
	redisMustEnqueue(t, s, m, 0)
	redisMustEnqueue(t, s, m, 0)
	if st := redisStats(t, s, "r", redisT0); st.Queued != 1 || st.Bytes != m.Size() {
		t.Fatalf("stats: %+v", st)
	}
}

// TestRedisTwoClients: two instances (two clients on one server), 8
// workers each, lease 100 messages at once: while the leases are live,
// each message is leased by exactly one worker, and all are leased.
func TestRedisTwoClients(t *testing.T) {
	srv := redistest.Start(t)
	opts := RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)}
	a, b := redisOpenTest(t, opts), redisOpenTest(t, opts)
	now := time.Now()
	for i := range 100 {
		redisMustEnqueue(t, []*RedisStore{a, b}[i%2], redisMsg(fmt.Sprintf("m%03d", i), "r", now), 0)
	}
	var mu sync.Mutex
	leasedBy := map[string][]string{}
	var total atomic.Int64 // bounds the loop if leases are handed out twice
	var wg sync.WaitGroup
	for c, s := range map[string]*RedisStore{"a": a, "b": b} {
		for w := range 8 {
			wg.Go(func() {
				for total.Add(1) <= 200 {
					l, err := s.Lease(context.Background(), "r", now, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if l == nil {
						return
					}
					mu.Lock()
					leasedBy[l.Message.ID] = append(leasedBy[l.Message.ID], fmt.Sprint(c, w))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(leasedBy) != 100 {
		t.Fatalf("%d messages leased, want 100", len(leasedBy))
	}
	perClient := map[byte]int{}
	for id, by := range leasedBy {
		if len(by) != 1 {
			t.Errorf("%s leased by %v", id, by)
		}
		perClient[by[0][0]]++
	}
	t.Logf("leased per client: a %d, b %d", perClient['a'], perClient['b'])
	if st := redisStats(t, a, "r", now); st.InFlight != 100 || st.Queued != 100 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestRedisTakeover: instance a leases a message and dies (its lease is
// never settled); once the lease expires, instance b leases it and
// delivers it; a, back, finds its lease lost.
func TestRedisTakeover(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	opts := RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)}
	a, b := redisOpenTest(t, opts), redisOpenTest(t, opts)
	redisMustEnqueue(t, a, redisMsg("m1", "r", time.Now()), 0)

	const d = 200 * time.Millisecond
	la := redisMustLease(t, a, "r", time.Now(), d)
	redisNoLease(t, b, "r", time.Now())
	time.Sleep(time.Until(la.Until))
	// Expired: a can no longer settle it, though no one else has it yet.
	if err := a.Retry(ctx, la, time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a's retry after its lease expired: %v", err)
	}
	lb := redisMustLease(t, b, "r", time.Now(), time.Minute)
	if lb.Message.ID != "m1" {
		t.Fatalf("b leased %s", lb.Message.ID)
	}
	redisNoLease(t, a, "r", time.Now())
	if err := a.Ack(ctx, la); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a's late ack: %v", err)
	}
	if err := b.Ack(ctx, lb); err != nil {
		t.Fatal(err)
	}
	if st := redisStats(t, a, "r", time.Now()); st != (Stats{}) {
		t.Fatalf("stats: %+v", st)
	}
}

// TestRedisDown: Redis killed: Enqueue (so the sender gets 503) and every
// other operation fail fast, with no body or header in the error; once
// Redis is back the same store works again.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	redisMustEnqueue(t, s, redisMsg("before", "r", redisT0), 0)
	l := redisMustLease(t, s, "r", redisT0, time.Minute)

	srv.Stop()
	for i := range 3 { // a pooled connection, then fresh dials
		start := time.Now()
		err := s.Enqueue(ctx, redisMsg(fmt.Sprint("down", i), "r", redisT0), 0)
		took := time.Since(start)
		t.Logf("enqueue %d with Redis down: %v after %v", i, err, took)
		if err == nil || errors.Is(err, ErrFull) {
			t.Fatalf("enqueue %d with Redis down: %v", i, err)
		}
		if took > 2*time.Second {
			t.Errorf("enqueue %d took %v", i, took)
		}
		redisNoSecret(t, err)
	}
	_, errLease := s.Lease(ctx, "r", redisT0, time.Minute)
	_, errGet := s.Get(ctx, "before")
	_, errDead := s.Dead(ctx, "", 0)
	_, errStats := s.Stats(ctx, "r", redisT0)
	for i, err := range []error{
		errLease, s.Ack(ctx, l), s.Retry(ctx, l, redisT0), s.Bury(ctx, l), errGet, errDead,
		s.Replay(ctx, "before", redisT0), errStats,
	} {
		if err == nil || errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrNotFound) {
			t.Errorf("operation %d with Redis down: %v", i, err)
		}
		redisNoSecret(t, err)
	}

	srv.Restart() // empty: redistest runs Redis without persistence
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.Enqueue(ctx, redisMsg("after", "r", redisT0), 0)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if l := redisMustLease(t, s, "r", redisT0, time.Minute); l.Message.ID != "after" {
		t.Fatalf("leased %s", l.Message.ID)
	}
}

// TestRedisPaused: a Redis that accepts connections but does not answer
// costs an Enqueue at most the operation's Timeout.
func TestRedisPaused(t *testing.T) {
	srv := redistest.Start(t)
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t), Timeout: 500 * time.Millisecond})
	redisMustEnqueue(t, s, redisMsg("before", "r", redisT0), 0)
	srv.Pause()
	start := time.Now()
	err := s.Enqueue(context.Background(), redisMsg("paused", "r", redisT0), 0)
	took := time.Since(start)
	srv.Resume()
	t.Logf("enqueue with Redis paused: %v after %v", err, took)
	if err == nil {
		t.Fatal("enqueue with Redis paused succeeded")
	}
	if took > time.Second {
		t.Errorf("took %v", took)
	}
	redisNoSecret(t, err)
}

func redisNoSecret(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if s := err.Error(); strings.Contains(s, redisSecretBody) || strings.Contains(s, redisSecretHeader) {
		t.Fatalf("error text carries message content: %v", err)
	}
}

// TestRedisErrorsHoldNoContent: the errors a working store answers, and
// a corrupt stored message's, carry neither body nor header values.
func TestRedisErrorsHoldNoContent(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	m := redisMsg("m1", "r", redisT0)
	redisMustEnqueue(t, s, m, 0)
	redisNoSecret(t, s.Enqueue(ctx, redisMsg("m2", "r", redisT0), 1))
	l := redisMustLease(t, s, "r", redisT0, time.Minute)
	stale := &Lease{Message: l.Message, Token: "stale"}
	for _, err := range []error{s.Ack(ctx, stale), s.Retry(ctx, stale, redisT0), s.Bury(ctx, stale), s.Replay(ctx, "m1", redisT0)} {
		if err == nil {
			t.Fatal("no error")
		}
		redisNoSecret(t, err)
	}
	// A stored message cut short (a bad write by hand): Get fails, and
	// says which message, not what it holds.
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	j, err := raw.HGet(ctx, s.msgKey("m1"), "j").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(ctx, s.msgKey("m1"), "j", j[:len(j)-20]).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "m1")
	if err == nil || !strings.Contains(err.Error(), "m1") {
		t.Fatalf("get of a corrupt message: %v", err)
	}
	redisNoSecret(t, err)
}

// TestRedisKeysPrefixed: every key the store writes carries its prefix,
// DefaultRedisPrefix when none is given.
func TestRedisKeysPrefixed(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	for _, prefix := range []string{"", "custom:{x}:"} {
		if err := raw.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: prefix})
		for i, route := range []string{"a", "b"} {
			redisMustEnqueue(t, s, redisMsg(fmt.Sprint("q", i), route, redisT0), 0)
			redisMustEnqueue(t, s, redisMsg(fmt.Sprint("d", i), route, redisT0), 0)
			l := redisMustLease(t, s, route, redisT0, time.Minute)
			if err := s.Bury(ctx, l); err != nil {
				t.Fatal(err)
			}
			redisMustLease(t, s, route, redisT0, time.Minute)
		}
		keys, err := raw.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		want := prefix
		if want == "" {
			want = DefaultRedisPrefix
		}
		if len(keys) < 10 {
			t.Fatalf("only %d keys: %v", len(keys), keys)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, want) {
				t.Errorf("key %q lacks the prefix %q", k, want)
			}
		}
	}
}

// TestRedisOpen: OpenRedis fails at once, naming the address and not the
// password, when Redis does not answer or refuses the password.
func TestRedisOpen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = OpenRedis(RedisOptions{URL: "redis://:pw-closed@" + addr})
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "pw-closed") {
		t.Fatalf("open on a closed port: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("open on a closed port took %v", took)
	}

	srv := redistest.Start(t, "--requirepass", "s3cret-pass")
	if _, err := OpenRedis(RedisOptions{URL: "redis://:wrong-pass@" + srv.Addr}); err == nil || strings.Contains(err.Error(), "wrong-pass") {
		t.Fatalf("wrong password: %v", err)
	}
	s := redisOpenTest(t, RedisOptions{URL: "redis://" + srv.Addr + "/2", Password: "s3cret-pass", Prefix: redisTestPrefix(t)})
	redisMustEnqueue(t, s, redisMsg("m1", "r", redisT0), 0)
}

func TestRedisOptions(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    RedisOptions
		wantErr string
		check   func(t *testing.T, o *redis.Options)
	}{
		{name: "neither", opts: RedisOptions{}, wantErr: "address or a url"},
		{name: "both", opts: RedisOptions{Address: "a:1", URL: "redis://a:1"}, wantErr: "both"},
		{name: "no port", opts: RedisOptions{Address: "redis.internal"}, wantErr: "address"},
		{name: "bad url", opts: RedisOptions{URL: "http://a:1"}, wantErr: "invalid URL scheme"},
		{name: "defaults", opts: RedisOptions{Address: "a:1"}, check: func(t *testing.T, o *redis.Options) {
			if o.TLSConfig != nil || o.DialTimeout != time.Second || o.ReadTimeout != time.Second ||
				o.WriteTimeout != time.Second || o.MaxRetries != 1 || !o.ContextTimeoutEnabled {
				t.Errorf("options %+v", o)
			}
		}},
		{name: "tls", opts: RedisOptions{Address: "redis.internal:6380", TLS: true}, check: func(t *testing.T, o *redis.Options) {
			if c := o.TLSConfig; c == nil || c.ServerName != "redis.internal" || c.MinVersion != tls.VersionTLS12 {
				t.Errorf("tls config %+v", c)
			}
		}},
		{name: "rediss url", opts: RedisOptions{URL: "rediss://u:p@redis.internal:6380/3"}, check: func(t *testing.T, o *redis.Options) {
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "redis.internal" || o.TLSConfig.MinVersion < tls.VersionTLS12 ||
				o.Username != "u" || o.Password != "p" || o.DB != 3 {
				t.Errorf("options %+v", o)
			}
		}},
		{name: "options override the url", opts: RedisOptions{URL: "redis://u:p@h:1/3", Username: "v", Password: "q", DB: 4, MaxRetries: -1}, check: func(t *testing.T, o *redis.Options) {
			if o.Username != "v" || o.Password != "q" || o.DB != 4 || o.MaxRetries != -1 {
				t.Errorf("options %+v", o)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := redisOptions(c.opts)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, o)
		})
	}
}

func TestRedisClose(t *testing.T) {
	srv := redistest.Start(t)
	s := redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Destruct(); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(context.Background(), redisMsg("m1", "r", redisT0), 0); err == nil {
		t.Fatal("enqueue after close succeeded")
	}
}

// BenchmarkRedisEnqueue is one accept: one script, one round trip on
// loopback, 4 KiB bodies, from 32 goroutines, to a Redis without
// persistence.
func BenchmarkRedisEnqueue(b *testing.B) { redisBenchEnqueue(b, redistest.Start(b)) }

// BenchmarkRedisEnqueueFsync is the same with every write fsynced
// before Redis answers (appendonly yes, appendfsync always).
func BenchmarkRedisEnqueueFsync(b *testing.B) {
	srv := redistest.Start(b, "--appendonly", "yes", "--appendfsync", "always")
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	if c, err := raw.ConfigGet(context.Background(), "append*").Result(); err != nil || c["appendonly"] != "yes" || c["appendfsync"] != "always" {
		b.Fatalf("redis config %v, %v", c, err)
	}
	redisBenchEnqueue(b, srv)
}

func redisBenchEnqueue(b *testing.B, srv *redistest.Server) {
	s := redisOpenTest(b, RedisOptions{Address: srv.Addr})
	body := bytes.Repeat([]byte("x"), 4096)
	var n atomic.Int64
	b.SetParallelism(16) // 32 on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := redisMsg(fmt.Sprint("b", n.Add(1)), "r", time.Now())
			m.Body = body
			if err := s.Enqueue(context.Background(), m, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestRedisConformance runs the suite every Store passes against Redis:
// one redis-server, a fresh key prefix per store opened.
func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	runConformance(t, func(t *testing.T) Store {
		n++
		return redisOpenTest(t, RedisOptions{Address: srv.Addr, Prefix: redisTestPrefix(t) + strconv.Itoa(n) + ":"})
	})
}
