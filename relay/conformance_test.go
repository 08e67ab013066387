package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// runConformance is the suite every Store passes: the store's own contract
// (runStoreConformance) and a Worker delivering from it to httptest
// receivers (runWorkerConformance, worker_test.go). open returns a fresh,
// empty store; it closes it itself (t.Cleanup). Nothing here depends on
// one store's implementation.
func runConformance(t *testing.T, open func(t *testing.T) Store) {
	t.Run("store", func(t *testing.T) { runStoreConformance(t, open) })
	t.Run("worker", func(t *testing.T) { runWorkerConformance(t, open) })
}

func testID() string {
	var b [12]byte
	rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}

// testMessage is a message of route due now, created now (to the
// millisecond, which every store keeps).
func testMessage(route string, body []byte) *Message {
	now := time.Now().Truncate(time.Millisecond)
	return &Message{
		ID:      testID(),
		Route:   route,
		URL:     "http://127.0.0.1:1/hook?x=1",
		Method:  http.MethodPost,
		Header:  http.Header{"Content-Type": {"application/json"}, "X-Event": {"push", "again"}},
		Body:    body,
		Created: now,
		NextAt:  now,
	}
}

func mustEnqueue(t *testing.T, s Store, m *Message) {
	t.Helper()
	if err := s.Enqueue(context.Background(), m, 0); err != nil {
		t.Fatalf("Enqueue %s: %v", m.ID, err)
	}
}

func mustLease(t *testing.T, s Store, route string, now time.Time, d time.Duration) *Lease {
	t.Helper()
	l, err := s.Lease(context.Background(), route, now, d)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if l == nil {
		t.Fatalf("Lease at %s: nothing due", now.Format(time.RFC3339Nano))
	}
	if l.Token == "" || l.Message == nil {
		t.Fatalf("Lease: %+v", l)
	}
	return l
}

func mustNoLease(t *testing.T, s Store, route string, now time.Time) {
	t.Helper()
	l, err := s.Lease(context.Background(), route, now, time.Minute)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if l != nil {
		t.Fatalf("Lease at %s handed out %s (attempts %d, next at %s)", now.Format(time.RFC3339Nano), l.Message.ID, l.Message.Attempts, l.Message.NextAt.Format(time.RFC3339Nano))
	}
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}

// checkSameRequest fails unless got is want's request, byte for byte.
func checkSameRequest(t *testing.T, got, want *Message) {
	t.Helper()
	if got.ID != want.ID || got.Route != want.Route || got.URL != want.URL || got.Method != want.Method {
		t.Errorf("got %s %s %s %s, want %s %s %s %s", got.ID, got.Route, got.Method, got.URL, want.ID, want.Route, want.Method, want.URL)
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body: got %q, want %q", got.Body, want.Body)
	}
	if fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
		t.Errorf("header: got %v, want %v", got.Header, want.Header)
	}
	if !sameTime(got.Created, want.Created) {
		t.Errorf("created: got %s, want %s", got.Created, want.Created)
	}
}

func runStoreConformance(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("EnqueueLeaseAck", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte(`{"a":1}`))
		mustEnqueue(t, s, m)
		mustNoLease(t, s, "other", time.Now())
		l := mustLease(t, s, "r1", time.Now(), time.Minute)
		checkSameRequest(t, l.Message, m)
		if l.Message.Attempts != 0 {
			t.Errorf("attempts %d", l.Message.Attempts)
		}
		if err := s.Ack(ctx, l); err != nil {
			t.Fatalf("Ack: %v", err)
		}
		mustNoLease(t, s, "r1", time.Now().Add(time.Hour))
		if _, err := s.Get(ctx, m.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Ack: %v, want ErrNotFound", err)
		}
		if err := s.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) && !errors.Is(err, ErrNotFound) {
			t.Errorf("second Ack: %v, want ErrLeaseLost", err)
		}
	})

	t.Run("EmptyBody", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", nil)
		m.Method = http.MethodGet
		m.Header = http.Header{}
		mustEnqueue(t, s, m)
		l := mustLease(t, s, "r1", time.Now(), time.Minute)
		if len(l.Message.Body) != 0 || l.Message.Method != http.MethodGet {
			t.Errorf("got %s %q", l.Message.Method, l.Message.Body)
		}
	})

	t.Run("LeaseIsExclusiveUntilItExpires", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte("x"))
		mustEnqueue(t, s, m)
		now := time.Now()
		l1 := mustLease(t, s, "r1", now, time.Minute)
		mustNoLease(t, s, "r1", now)
		mustNoLease(t, s, "r1", now.Add(59*time.Second))
		l2 := mustLease(t, s, "r1", now.Add(61*time.Second), time.Minute)
		if l2.Message.ID != m.ID || l2.Token == l1.Token {
			t.Fatalf("second lease %s token %q, first token %q", l2.Message.ID, l2.Token, l1.Token)
		}
		for name, settle := range map[string]func() error{
			"Ack":   func() error { return s.Ack(ctx, l1) },
			"Retry": func() error { return s.Retry(ctx, l1, now.Add(time.Hour)) },
			"Bury":  func() error { return s.Bury(ctx, l1) },
		} {
			if err := settle(); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("%s with the expired lease: %v, want ErrLeaseLost", name, err)
			}
		}
		if err := s.Ack(ctx, l2); err != nil {
			t.Fatalf("Ack with the new lease: %v", err)
		}
		if _, err := s.Get(ctx, m.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Ack: %v", err)
		}
	})

	t.Run("ExpiredLeaseCannotSettle", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte("x"))
		mustEnqueue(t, s, m)
		l := mustLease(t, s, "r1", time.Now(), 50*time.Millisecond)
		time.Sleep(time.Until(l.Until) + 20*time.Millisecond)
		if err := s.Ack(ctx, l); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Ack after the lease expired: %v, want ErrLeaseLost", err)
		}
		l2 := mustLease(t, s, "r1", time.Now(), time.Minute)
		if l2.Message.ID != m.ID {
			t.Fatalf("leased %s", l2.Message.ID)
		}
	})

	t.Run("DueOrder", func(t *testing.T) {
		s := open(t)
		now := time.Now()
		later := testMessage("r1", []byte("later"))
		later.NextAt = now.Add(-time.Second)
		first := testMessage("r1", []byte("first"))
		first.NextAt = now.Add(-2 * time.Second)
		future := testMessage("r1", []byte("future"))
		future.NextAt = now.Add(time.Hour)
		mustEnqueue(t, s, later)
		mustEnqueue(t, s, future)
		mustEnqueue(t, s, first)
		if l := mustLease(t, s, "r1", now, 2*time.Hour); l.Message.ID != first.ID {
			t.Errorf("first lease: %q", l.Message.Body)
		}
		if l := mustLease(t, s, "r1", now, 2*time.Hour); l.Message.ID != later.ID {
			t.Errorf("second lease: %q", l.Message.Body)
		}
		mustNoLease(t, s, "r1", now)
		if l := mustLease(t, s, "r1", now.Add(time.Hour), time.Minute); l.Message.ID != future.ID {
			t.Errorf("third lease: %q", l.Message.Body)
		}
	})

	t.Run("RetryIsDueAtNext", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte("x"))
		mustEnqueue(t, s, m)
		now := time.Now()
		l := mustLease(t, s, "r1", now, time.Minute)
		l.Message.Attempts = 1
		l.Message.LastAttempt = now.Truncate(time.Millisecond)
		l.Message.LastStatus = 503
		next := now.Add(10 * time.Second).Truncate(time.Millisecond)
		if err := s.Retry(ctx, l, next); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		mustNoLease(t, s, "r1", now)
		mustNoLease(t, s, "r1", next.Add(-time.Millisecond))
		l2 := mustLease(t, s, "r1", next, time.Minute)
		got := l2.Message
		checkSameRequest(t, got, m)
		if got.Attempts != 1 || got.LastStatus != 503 || got.LastError != "" || !sameTime(got.LastAttempt, now) || !sameTime(got.NextAt, next) {
			t.Errorf("after Retry: attempts %d status %d error %q last %s next %s", got.Attempts, got.LastStatus, got.LastError, got.LastAttempt, got.NextAt)
		}
		got.Attempts = 2
		got.LastStatus = 0
		got.LastError = "connection refused"
		if err := s.Retry(ctx, l2, next.Add(time.Second)); err != nil {
			t.Fatalf("second Retry: %v", err)
		}
		g, err := s.Get(ctx, m.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if g.Attempts != 2 || g.LastStatus != 0 || g.LastError != "connection refused" {
			t.Errorf("Get after second Retry: attempts %d status %d error %q", g.Attempts, g.LastStatus, g.LastError)
		}
		if st, _ := s.Stats(ctx, "r1", next); st.Queued != 1 || st.Bytes != m.Size() {
			t.Errorf("stats after Retry: %+v", st)
		}
	})

	t.Run("BuryDeadReplay", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte("refused"))
		mustEnqueue(t, s, m)
		other := testMessage("r2", []byte("other"))
		mustEnqueue(t, s, other)
		now := time.Now()
		l := mustLease(t, s, "r1", now, time.Minute)
		l.Message.Attempts = 1
		l.Message.LastAttempt = now
		l.Message.LastStatus = 404
		if err := s.Bury(ctx, l); err != nil {
			t.Fatalf("Bury: %v", err)
		}
		mustNoLease(t, s, "r1", now.Add(time.Hour))
		dead, err := s.Dead(ctx, "r1", 0)
		if err != nil || len(dead) != 1 {
			t.Fatalf("Dead: %d, %v", len(dead), err)
		}
		d := dead[0]
		checkSameRequest(t, d, m)
		if d.Dead.IsZero() || d.Attempts != 1 || d.LastStatus != 404 {
			t.Errorf("dead letter: dead %s attempts %d status %d", d.Dead, d.Attempts, d.LastStatus)
		}
		if g, err := s.Get(ctx, m.ID); err != nil || g.Dead.IsZero() {
			t.Errorf("Get of a dead letter: %v, %v", g, err)
		}
		st, err := s.Stats(ctx, "r1", now)
		if err != nil || st.Dead != 1 || st.Queued != 0 || st.Bytes != 0 || st.InFlight != 0 {
			t.Errorf("Stats with a dead letter: %+v, %v", st, err)
		}
		if dd, _ := s.Dead(ctx, "r2", 0); len(dd) != 0 {
			t.Errorf("r2 has %d dead letters", len(dd))
		}

		// A second route's dead letter: "" lists both, oldest first.
		time.Sleep(2 * time.Millisecond)
		lo := mustLease(t, s, "r2", now, time.Minute)
		lo.Message.Attempts, lo.Message.LastStatus = 1, 410
		if err := s.Bury(ctx, lo); err != nil {
			t.Fatalf("Bury: %v", err)
		}
		all, err := s.Dead(ctx, "", 0)
		if err != nil || len(all) != 2 || all[0].ID != m.ID || all[1].ID != other.ID {
			t.Fatalf("Dead(\"\"): %d, %v", len(all), err)
		}
		if one, _ := s.Dead(ctx, "", 1); len(one) != 1 || one[0].ID != m.ID {
			t.Errorf("Dead(\"\", 1): %d", len(one))
		}

		if err := s.Replay(ctx, testID(), now); !errors.Is(err, ErrNotFound) {
			t.Errorf("Replay of an unknown id: %v", err)
		}
		replayAt := time.Now()
		if err := s.Replay(ctx, m.ID, replayAt); err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if err := s.Replay(ctx, m.ID, replayAt); !errors.Is(err, ErrNotFound) {
			t.Errorf("Replay of a queued message: %v, want ErrNotFound", err)
		}
		if dd, _ := s.Dead(ctx, "r1", 0); len(dd) != 0 {
			t.Errorf("after Replay, r1 has %d dead letters", len(dd))
		}
		st, _ = s.Stats(ctx, "r1", replayAt)
		if st.Dead != 0 || st.Queued != 1 || st.Bytes != m.Size() {
			t.Errorf("Stats after Replay: %+v", st)
		}
		l2 := mustLease(t, s, "r1", replayAt, time.Minute)
		if l2.Message.ID != m.ID || l2.Message.Attempts != 0 || !l2.Message.Dead.IsZero() || !bytes.Equal(l2.Message.Body, m.Body) {
			t.Errorf("replayed: %s attempts %d dead %s", l2.Message.ID, l2.Message.Attempts, l2.Message.Dead)
		}
		// Accepted anew: a whole max_age of retries, in every store.
		if d := l2.Message.Created.Sub(replayAt); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("replayed message created %s, want the replay's time %s", l2.Message.Created, replayAt)
		}
		if err := s.Ack(ctx, l2); err != nil {
			t.Fatalf("Ack of the replayed message: %v", err)
		}
	})

	t.Run("Full", func(t *testing.T) {
		s := open(t)
		body := bytes.Repeat([]byte("b"), 1000)
		size := testMessage("r1", body).Size()
		maxBytes := 2*size + size/2
		for i := range 2 {
			if err := s.Enqueue(ctx, testMessage("r1", body), maxBytes); err != nil {
				t.Fatalf("Enqueue %d: %v", i, err)
			}
		}
		full := testMessage("r1", body)
		if err := s.Enqueue(ctx, full, maxBytes); !errors.Is(err, ErrFull) {
			t.Fatalf("Enqueue past max_queued: %v, want ErrFull", err)
		}
		if _, err := s.Get(ctx, full.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a refused message was kept: %v", err)
		}
		// Another route has its own bound; 0 is none.
		if err := s.Enqueue(ctx, testMessage("r2", body), maxBytes); err != nil {
			t.Errorf("other route: %v", err)
		}
		if err := s.Enqueue(ctx, testMessage("r1", body), 0); err != nil {
			t.Errorf("no bound: %v", err)
		}
		for range 2 {
			l := mustLease(t, s, "r1", time.Now(), time.Minute)
			if err := s.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Enqueue(ctx, full, maxBytes); err != nil {
			t.Fatalf("Enqueue after Ack made room: %v", err)
		}
	})

	t.Run("Stats", func(t *testing.T) {
		s := open(t)
		t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		var total int64
		var ids []string
		for i := range 3 {
			m := testMessage("r1", bytes.Repeat([]byte("s"), 100*(i+1)))
			m.Created = t0.Add(time.Duration(2-i) * time.Second) // the last is the oldest
			m.NextAt = m.Created
			mustEnqueue(t, s, m)
			total += m.Size()
			ids = append(ids, m.ID)
		}
		mustEnqueue(t, s, testMessage("r2", []byte("elsewhere")))
		now := time.Now()
		if st, err := s.Stats(ctx, "r1", now); err != nil || st.Queued != 3 || st.Bytes != total || st.InFlight != 0 || !sameTime(st.Oldest, t0) || st.Dead != 0 {
			t.Fatalf("Stats: %+v, %v (want 3, %d bytes, oldest %s)", st, err, total, t0)
		}
		l := mustLease(t, s, "r1", now, time.Minute)
		if l.Message.ID != ids[2] {
			t.Errorf("the oldest due was not leased first")
		}
		if st, _ := s.Stats(ctx, "r1", now); st.InFlight != 1 || st.Queued != 3 {
			t.Errorf("Stats with one leased: %+v", st)
		}
		if st, _ := s.Stats(ctx, "r1", now.Add(2*time.Minute)); st.InFlight != 0 {
			t.Errorf("Stats after the lease expired: %+v", st)
		}
		if err := s.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.Stats(ctx, "r1", now); st.Queued != 2 || st.InFlight != 0 || !sameTime(st.Oldest, t0.Add(time.Second)) {
			t.Errorf("Stats after Ack of the oldest: %+v", st)
		}
		if st, err := s.Stats(ctx, "none", now); err != nil || st != (Stats{}) {
			t.Errorf("Stats of an empty route: %+v, %v", st, err)
		}
	})

	t.Run("Get", func(t *testing.T) {
		s := open(t)
		m := testMessage("r1", []byte{0, 1, 2, 0xff})
		mustEnqueue(t, s, m)
		g, err := s.Get(ctx, m.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		checkSameRequest(t, g, m)
		if !sameTime(g.NextAt, m.NextAt) || !g.Dead.IsZero() {
			t.Errorf("Get: next %s dead %s", g.NextAt, g.Dead)
		}
		if _, err := s.Get(ctx, testID()); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of an unknown id: %v", err)
		}
	})

	t.Run("ConcurrentEnqueueLeasedOnce", func(t *testing.T) {
		s := open(t)
		const n, senders = 200, 32
		want := make(map[string]bool)
		msgs := make(chan *Message, n)
		for i := range n {
			m := testMessage("r1", []byte(fmt.Sprintf("message %d", i)))
			want[m.ID] = true
			msgs <- m
		}
		close(msgs)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range msgs {
					if err := s.Enqueue(ctx, m, 0); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Enqueue: %v", err)
		}
		if st, _ := s.Stats(ctx, "r1", time.Now()); st.Queued != n {
			t.Fatalf("queued %d, want %d", st.Queued, n)
		}

		var mu sync.Mutex
		got := make(map[string]int)
		now := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					l, err := s.Lease(ctx, "r1", now, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if l == nil {
						return
					}
					mu.Lock()
					got[l.Message.ID]++
					total := 0
					for _, c := range got {
						total += c
					}
					mu.Unlock()
					if total > 2*n {
						return // handing out leased messages again
					}
				}
			}()
		}
		wg.Wait()
		if len(got) != n {
			t.Errorf("leased %d distinct messages, want %d", len(got), n)
		}
		for id, c := range got {
			if c != 1 || !want[id] {
				t.Errorf("%s leased %d times (ours: %v)", id, c, want[id])
			}
		}
	})
}
