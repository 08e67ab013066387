package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func init() {
	// Tests see messages queued behind a worker's back (or due at a time
	// it does not know) within 50ms rather than a second.
	pollInterval = 50 * time.Millisecond
}

// hit is one request a test receiver got.
type hit struct {
	at            time.Time
	method, uri   string
	header        http.Header
	body          []byte
	contentLength int64
}

// receiver is an httptest server that records every request and answers
// it with answer (n counts requests from 1).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{at: time.Now(), method: r.Method, uri: r.RequestURI, header: r.Header.Clone(), body: body, contentLength: r.ContentLength})
		n := len(rc.hits)
		rc.mu.Unlock()
		rc.answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

// status answers code to every request numbered in fail, 200 otherwise.
func status(code int, fail func(n int) bool) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if fail(n) {
			w.WriteHeader(code)
			io.WriteString(w, "receiver says no: secret-body-text")
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// observer records cfg.Observe's calls.
type observer struct {
	mu  sync.Mutex
	got []Outcome
	st  []int
}

func (o *observer) observe(out Outcome, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, out)
	o.st = append(o.st, status)
}

func (o *observer) outcomes() []Outcome {
	out, _ := o.observed()
	return out
}

// observed is every outcome and status so far.
func (o *observer) observed() ([]Outcome, []int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Outcome(nil), o.got...), append([]int(nil), o.st...)
}

func count(outs []Outcome, o Outcome) int {
	n := 0
	for _, x := range outs {
		if x == o {
			n++
		}
	}
	return n
}

// startWorker runs a worker on s until the returned stop (also a cleanup),
// which returns when Run has.
func startWorker(t *testing.T, s Store, cfg Config) (*Worker, func()) {
	w := NewWorker(s, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
	}
	t.Cleanup(stop)
	return w, stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled is true once id is no longer queued: acked (gone) or dead.
func settled(s Store, id string) func() bool {
	return func() bool {
		m, err := s.Get(context.Background(), id)
		return errors.Is(err, ErrNotFound) || (err == nil && !m.Dead.IsZero())
	}
}

func allBytes() []byte {
	b := make([]byte, 0, 512)
	for i := range 512 {
		b = append(b, byte(i))
	}
	return b
}

func deliveryMessage(route, url string) *Message {
	m := testMessage(route, allBytes())
	m.URL = url
	m.Header = http.Header{
		"Content-Type":   {"application/octet-stream"},
		"X-Event":        {"push", "again"},
		"Connection":     {"keep-alive, X-Hop"},
		"X-Hop":          {"must go"},
		"Keep-Alive":     {"timeout=5"},
		"Upgrade":        {"h2c"},
		"Content-Length": {"1"},
	}
	return m
}

func runWorkerConformance(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	fast := []time.Duration{10 * time.Millisecond}

	t.Run("DeliveredOnce", func(t *testing.T) {
		s := open(t)
		rc := newReceiver(t, status(200, func(int) bool { return false }))
		var obs observer
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast, Workers: 4, Observe: obs.observe})
		m := deliveryMessage("r1", rc.URL+"/hooks/in?a=b")
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "delivery", settled(s, m.ID))
		time.Sleep(3 * pollInterval)
		hits := rc.all()
		if len(hits) != 1 {
			t.Fatalf("%d deliveries, want 1", len(hits))
		}
		h := hits[0]
		if h.method != http.MethodPost || h.uri != "/hooks/in?a=b" || !bytes.Equal(h.body, m.Body) || h.contentLength != int64(len(m.Body)) {
			t.Errorf("got %s %s, %d bytes (Content-Length %d), equal %v", h.method, h.uri, len(h.body), h.contentLength, bytes.Equal(h.body, m.Body))
		}
		if got := h.header.Values("X-Event"); len(got) != 2 || got[0] != "push" || got[1] != "again" || h.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("headers not kept: %v", h.header)
		}
		for _, hop := range []string{"X-Hop", "Keep-Alive", "Upgrade"} {
			if v := h.header.Get(hop); v != "" {
				t.Errorf("hop-by-hop %s: %q was sent", hop, v)
			}
		}
		if out, st := obs.observed(); len(out) != 1 || out[0] != Delivered || st[0] != 200 {
			t.Errorf("observed %v %v", out, st)
		}
		if st, _ := s.Stats(ctx, "r1", time.Now()); st.Queued != 0 || st.InFlight != 0 {
			t.Errorf("stats after delivery: %+v", st)
		}
	})

	t.Run("DownThenUp", func(t *testing.T) {
		s := open(t)
		rc := newReceiver(t, status(503, func(n int) bool { return n <= 3 }))
		var obs observer
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast, Workers: 2, Observe: obs.observe})
		m := deliveryMessage("r1", rc.URL+"/in")
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "delivery", settled(s, m.ID))
		time.Sleep(3 * pollInterval)
		hits := rc.all()
		if len(hits) != 4 {
			t.Fatalf("%d requests, want 3 failures and 1 delivery", len(hits))
		}
		for i, h := range hits {
			if !bytes.Equal(h.body, m.Body) || h.contentLength != int64(len(m.Body)) {
				t.Errorf("attempt %d: body differs (%d bytes)", i+1, len(h.body))
			}
			if i > 0 && h.at.Sub(hits[i-1].at) < 8*time.Millisecond {
				t.Errorf("attempt %d came %s after the last, before the backoff", i+1, h.at.Sub(hits[i-1].at))
			}
		}
		if out := obs.outcomes(); count(out, Retried) != 3 || count(out, Delivered) != 1 || len(out) != 4 {
			t.Errorf("observed %v", out)
		}
	})

	t.Run("RefusedIsDeadThenReplayed", func(t *testing.T) {
		s := open(t)
		var mu sync.Mutex
		code := 404
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.WriteHeader(code)
		})
		var obs observer
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast, Observe: obs.observe})
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "dead letter", settled(s, m.ID))
		time.Sleep(3 * pollInterval)
		if n := rc.count(); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
		dead, err := s.Dead(ctx, "r1", 0)
		if err != nil || len(dead) != 1 {
			t.Fatalf("Dead: %d, %v", len(dead), err)
		}
		if d := dead[0]; d.ID != m.ID || d.Attempts != 1 || d.LastStatus != 404 || d.LastError != "" || d.LastAttempt.IsZero() {
			t.Errorf("dead letter: attempts %d status %d error %q last %s", d.Attempts, d.LastStatus, d.LastError, d.LastAttempt)
		}
		if out := obs.outcomes(); len(out) != 1 || out[0] != Buried {
			t.Errorf("observed %v", out)
		}

		mu.Lock()
		code = 200
		mu.Unlock()
		if err := s.Replay(ctx, m.ID, time.Now()); err != nil {
			t.Fatalf("Replay: %v", err)
		}
		w.Wake()
		eventually(t, "replayed delivery", func() bool {
			_, err := s.Get(ctx, m.ID)
			return errors.Is(err, ErrNotFound)
		})
		if hits := rc.all(); len(hits) != 2 || !bytes.Equal(hits[1].body, m.Body) {
			t.Errorf("%d requests after replay", len(hits))
		}
	})

	t.Run("RetriedStatuses", func(t *testing.T) {
		// 408, 429, 5xx and 3xx are retried (a redirect is not followed).
		s := open(t)
		codes := []int{408, 429, 500, 302}
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				t.Errorf("a redirect was followed")
			}
			if n <= len(codes) {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(codes[n-1])
				return
			}
			w.WriteHeader(204)
		})
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast})
		m := deliveryMessage("r1", rc.URL+"/in")
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "delivery", settled(s, m.ID))
		if n := rc.count(); n != len(codes)+1 {
			t.Errorf("%d requests, want %d", n, len(codes)+1)
		}
		if dead, _ := s.Dead(ctx, "r1", 0); len(dead) != 0 {
			t.Errorf("dead-lettered")
		}
	})

	t.Run("RetryAfterHonoured", func(t *testing.T) {
		s := open(t)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(503)
				return
			}
			w.WriteHeader(200)
		})
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast})
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "first attempt", func() bool { return rc.count() == 1 })
		eventually(t, "delivery", settled(s, m.ID))
		hits := rc.all()
		if len(hits) != 2 {
			t.Fatalf("%d requests", len(hits))
		}
		if gap := hits[1].at.Sub(hits[0].at); gap < 950*time.Millisecond {
			t.Errorf("retried %s after a Retry-After of 1s", gap)
		}
	})

	t.Run("MaxAgeIsDead", func(t *testing.T) {
		s := open(t)
		rc := newReceiver(t, status(503, func(int) bool { return true }))
		maxAge := 200 * time.Millisecond
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: []time.Duration{30 * time.Millisecond}, MaxAge: maxAge})
		m := deliveryMessage("r1", rc.URL)
		m.Created = time.Now()
		m.NextAt = m.Created
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "dead letter", settled(s, m.ID))
		n := rc.count()
		time.Sleep(3 * pollInterval)
		if rc.count() != n {
			t.Errorf("attempts after the dead letter")
		}
		if n < 3 {
			t.Errorf("%d attempts in %s at 30ms intervals", n, maxAge)
		}
		g, err := s.Get(ctx, m.ID)
		if err != nil || g.Dead.IsZero() || g.LastError != "max_age" || g.LastStatus != 503 || g.Attempts != n {
			t.Fatalf("after max_age: %+v, %v", g, err)
		}
		for i, h := range rc.all() {
			if h.at.After(m.Created.Add(maxAge + 50*time.Millisecond)) {
				t.Errorf("attempt %d at %s, past max_age", i+1, h.at.Sub(m.Created))
			}
		}
	})

	t.Run("TimeoutIsRetried", func(t *testing.T) {
		s := open(t)
		release := make(chan struct{})
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		var obs observer
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: []time.Duration{time.Hour}, Timeout: 100 * time.Millisecond, Observe: obs.observe})
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "first attempt settled", func() bool {
			g, err := s.Get(ctx, m.ID)
			return err == nil && g.Attempts == 1
		})
		g, _ := s.Get(ctx, m.ID)
		if g.LastError != "timeout" || g.LastStatus != 0 || !g.Dead.IsZero() || g.NextAt.Before(time.Now().Add(40*time.Minute)) {
			t.Errorf("after a timeout: error %q status %d next in %s", g.LastError, g.LastStatus, time.Until(g.NextAt))
		}
		eventually(t, "observed", func() bool { return len(obs.outcomes()) > 0 })
		if out, st := obs.observed(); len(out) != 1 || out[0] != Retried || st[0] != 0 {
			t.Errorf("observed %v %v", out, st)
		}
	})

	t.Run("SignedAfreshEachAttempt", func(t *testing.T) {
		s := open(t)
		rc := newReceiver(t, status(503, func(n int) bool { return n <= 2 }))
		var mu sync.Mutex
		var ats []time.Time
		var ids []string
		sign := func(m *Message, at time.Time) (http.Header, error) {
			mu.Lock()
			defer mu.Unlock()
			ats = append(ats, at)
			ids = append(ids, m.ID)
			return http.Header{"Webhook-Id": {m.ID}, "Webhook-Timestamp": {strconv.FormatInt(at.UnixNano(), 10)}, "X-Event": {"signed"}}, nil
		}
		w, _ := startWorker(t, s, Config{Route: "r1", Retry: fast, Sign: sign})
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		w.Wake()
		eventually(t, "delivery", settled(s, m.ID))
		hits := rc.all()
		mu.Lock()
		defer mu.Unlock()
		if len(hits) != 3 || len(ats) != 3 {
			t.Fatalf("%d requests, %d signatures", len(hits), len(ats))
		}
		for i, h := range hits {
			if ids[i] != m.ID || h.header.Get("Webhook-Id") != m.ID {
				t.Errorf("attempt %d: id %q, header %q", i+1, ids[i], h.header.Get("Webhook-Id"))
			}
			if h.header.Get("Webhook-Timestamp") != strconv.FormatInt(ats[i].UnixNano(), 10) {
				t.Errorf("attempt %d: not the attempt's signature", i+1)
			}
			if got := h.header.Values("X-Event"); len(got) != 1 || got[0] != "signed" {
				t.Errorf("attempt %d: signer's header not set: %v", i+1, got)
			}
			if i > 0 && !ats[i].After(ats[i-1]) {
				t.Errorf("attempt %d signed at %s, not after %s", i+1, ats[i], ats[i-1])
			}
		}
	})

	t.Run("StopFinishesTheAttempt", func(t *testing.T) {
		s := open(t)
		arrived := make(chan struct{})
		release := make(chan struct{})
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				close(arrived)
				<-release
			}
			w.WriteHeader(200)
		})
		var obs observer
		w, stop := startWorker(t, s, Config{Route: "r1", Retry: fast, Workers: 3, Timeout: 5 * time.Second, Observe: obs.observe})
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		w.Wake()
		<-arrived
		stopped := make(chan struct{})
		go func() {
			stop()
			close(stopped)
		}()
		select {
		case <-stopped:
			t.Fatal("Run returned while an attempt was in flight")
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		<-stopped
		if _, err := s.Get(ctx, m.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the attempt in flight at stop was not acked: %v", err)
		}
		if out := obs.outcomes(); len(out) != 1 || out[0] != Delivered {
			t.Errorf("observed %v", out)
		}
		// The next config's worker does not send it again.
		w2, _ := startWorker(t, s, Config{Route: "r1", Retry: fast})
		w2.Wake()
		time.Sleep(3 * pollInterval)
		if n := rc.count(); n != 1 {
			t.Errorf("%d deliveries, want 1", n)
		}
	})

	t.Run("NoPollNeeded", func(t *testing.T) {
		// With a poll too slow to matter: a retry is made when it is due,
		// and one Wake sets every idle goroutine to work.
		saved := pollInterval
		pollInterval = time.Minute
		t.Cleanup(func() { pollInterval = saved })
		s := open(t)
		var mu sync.Mutex
		inside, most := 0, 0
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.WriteHeader(503)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			w.WriteHeader(200)
		})
		w, stop := startWorker(t, s, Config{Route: "r1", Retry: []time.Duration{20 * time.Millisecond}, Workers: 4})
		first := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, first)
		w.Wake()
		eventually(t, "the retry", settled(s, first.ID))
		var ms []*Message
		for range 8 {
			m := deliveryMessage("r1", rc.URL)
			mustEnqueue(t, s, m)
			ms = append(ms, m)
		}
		w.Wake()
		for _, m := range ms {
			eventually(t, "the batch", settled(s, m.ID))
		}
		stop()
		if n := rc.count(); n != 10 {
			t.Errorf("%d requests, want 10", n)
		}
		if most < 2 {
			t.Errorf("at most %d attempts at once with 4 workers", most)
		}
	})

	t.Run("QueuedBehindItsBack", func(t *testing.T) {
		// No Wake (another instance queued it): the poll finds it.
		s := open(t)
		rc := newReceiver(t, status(200, func(int) bool { return false }))
		startWorker(t, s, Config{Route: "r1"})
		time.Sleep(10 * time.Millisecond)
		m := deliveryMessage("r1", rc.URL)
		mustEnqueue(t, s, m)
		eventually(t, "delivery", settled(s, m.ID))
		if n := rc.count(); n != 1 {
			t.Errorf("%d deliveries", n)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		" 7 ":                           7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:05:05 GMT": time.Minute,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	created := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	w := NewWorker(nil, Config{Retry: []time.Duration{10 * time.Second, time.Minute}, MaxAge: time.Hour})
	m := &Message{Created: created}
	for _, c := range []struct {
		attempts   int
		at         time.Duration // after created
		retryAfter time.Duration
		lo, hi     time.Duration // the delay's bounds
		ok         bool
	}{
		{1, 0, 0, 8 * time.Second, 12 * time.Second, true},
		{2, 0, 0, 48 * time.Second, 72 * time.Second, true},
		{9, 0, 0, 48 * time.Second, 72 * time.Second, true},                               // the last repeats
		{1, 0, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute, true},                   // Retry-After longer
		{1, 0, time.Second, 8 * time.Second, 12 * time.Second, true},                      // Retry-After shorter
		{2, 59*time.Minute + 30*time.Second, 0, 30 * time.Second, 30 * time.Second, true}, // capped at max_age
		{1, 50 * time.Minute, 20 * time.Minute, 10 * time.Minute, 10 * time.Minute, true}, // Retry-After past max_age: a last attempt at it (review)
		{1, time.Hour, 0, 0, 0, false},                                                    // past max_age
	} {
		m.Attempts = c.attempts
		at := created.Add(c.at)
		for range 50 {
			next, ok := w.next(m, at, c.retryAfter)
			if ok != c.ok {
				t.Fatalf("%+v: ok %v", c, ok)
			}
			if d := next.Sub(at); ok && (d < c.lo || d > c.hi) {
				t.Fatalf("%+v: delay %s", c, d)
			}
		}
	}
}

func TestErrorReasonHidesDetails(t *testing.T) {
	// A peer that answers garbage: the reason must not quote it.
	ln := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("SECRET-GARBAGE\r\n\r\n")
		buf.Flush()
		conn.Close()
	}))
	defer ln.Close()
	w := NewWorker(nil, Config{Timeout: time.Second})
	status, reason, _ := w.attempt(&Message{ID: "x", Method: "POST", URL: ln.URL + "/?token=SECRET-QUERY", Body: []byte("b")}, time.Now())
	if status != 0 || reason == "" || bytes.Contains([]byte(reason), []byte("SECRET")) {
		t.Errorf("status %d reason %q", status, reason)
	}
	_, reason, _ = w.attempt(&Message{ID: "x", Method: "POST", URL: "http://127.0.0.1:1/?token=SECRET"}, time.Now())
	if reason != "connection refused" {
		t.Errorf("reason %q", reason)
	}
}
