package relay

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// DefaultRetry is the backoff schedule when a route gives none: the n-th
// retry waits the n-th duration (the last one repeats), jittered.
var DefaultRetry = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// Defaults of a route that says nothing.
const (
	DefaultMaxAge  = 72 * time.Hour
	DefaultTimeout = 30 * time.Second
)

// Outcome is what one delivery attempt came to.
type Outcome string

// The outcomes of an attempt.
const (
	Delivered Outcome = "delivered" // 2xx: acked
	Retried   Outcome = "retried"   // no answer, 408, 429, 5xx...: due again later
	Buried    Outcome = "dead"      // 4xx other than 408/429, or past max_age: dead letter
)

// Config is one route's delivery settings.
type Config struct {
	// Route names the route; its messages are leased by it.
	Route string
	// Retry is the backoff schedule (DefaultRetry if empty).
	Retry []time.Duration
	// MaxAge is how long after acceptance a message is retried before it
	// is dead-lettered (DefaultMaxAge if 0).
	MaxAge time.Duration
	// Timeout bounds one attempt, answer included (DefaultTimeout if 0).
	Timeout time.Duration
	// Workers is how many attempts run at once (1 if 0).
	Workers int
	// Transport sends attempts: reverse_proxy's HTTP transport, with the
	// route's TLS settings. Redirects are not followed.
	Transport http.RoundTripper
	// Sign, if set, returns the headers that sign an attempt of m made at
	// at: a fresh timestamp each time, m.ID as the message id.
	Sign func(m *Message, at time.Time) (http.Header, error)
	// Observe, if set, is told of every attempt: for metrics.
	Observe func(o Outcome, status int, took time.Duration)
	// Logger logs attempts that fail and dead letters (never a body or a
	// secret). Nil: nothing is logged.
	Logger *zap.Logger
	// Now is the clock (time.Now if nil); tests set it.
	Now func() time.Time
}

// Worker delivers one route's messages from a Store.
type Worker struct {
	store Store
	cfg   Config
	wake  chan struct{}

	mu  sync.Mutex
	due timeHeap // when messages this worker retried are due again
}

// NewWorker returns a worker for cfg.Route's messages in store.
func NewWorker(store Store, cfg Config) *Worker {
	if len(cfg.Retry) == 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{store: store, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Wake tells the worker a message was queued, so it need not wait for its
// next poll.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// pollInterval is the longest a worker waits before it looks at the store
// again: a message queued by another instance (Redis), or one whose due
// time this worker does not know, waits at most this long.
var pollInterval = time.Second

// leaseMargin is how much longer than an attempt's Timeout a lease lasts,
// for the attempt to be settled.
const leaseMargin = 10 * time.Second

// settleTimeout bounds a store call that settles an attempt.
const settleTimeout = 10 * time.Second

// maxErrorBackoff is the longest a worker waits after the store failed.
const maxErrorBackoff = 5 * time.Second

// Run delivers due messages until ctx is done. An attempt in progress when
// ctx ends is finished (within Timeout) and settled, never abandoned: so a
// config reload neither loses a message nor has this process send it
// twice. Run returns once every attempt has settled.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		l, err := w.store.Lease(ctx, w.cfg.Route, w.cfg.Now(), w.cfg.Timeout+leaseMargin)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), maxErrorBackoff)
			w.cfg.Logger.Error("relay: cannot lease a message", zap.String("route", w.cfg.Route), zap.Error(err))
			w.wait(ctx, backoff)
			continue
		}
		backoff = 0
		if l == nil {
			w.wait(ctx, w.untilDue())
			continue
		}
		// There may be more: let an idle goroutine look too.
		w.Wake()
		w.deliver(l)
	}
}

// wait sleeps for d, or until Wake or ctx ends.
func (w *Worker) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-t.C:
	}
}

// untilDue is how long to sleep before the next lease: until the earliest
// retry this worker scheduled, at most pollInterval.
func (w *Worker) untilDue() time.Duration {
	now := w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.due) > 0 && !w.due[0].After(now) {
		heap.Pop(&w.due)
	}
	d := pollInterval
	if len(w.due) > 0 {
		d = min(d, w.due[0].Sub(now))
	}
	return max(d, time.Millisecond)
}

func (w *Worker) scheduled(next time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.due) < 10000 {
		heap.Push(&w.due, next)
	}
}

// hopHeaders are not forwarded (RFC 9110 7.6.1), as reverse_proxy does.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// request builds an attempt of m: its method, URL, headers (less hop by
// hop ones) and exact body.
func (w *Worker) request(ctx context.Context, m *Message, at time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, m.Method, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return nil, errors.New("bad request")
	}
	h := m.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
	h.Del("Content-Length")
	h.Del("Host")
	h.Del("Expect") // the sender's 100-continue was answered when it was accepted
	if w.cfg.Sign != nil {
		sh, err := w.cfg.Sign(m, at)
		if err != nil {
			return nil, errors.New("sign failed")
		}
		for k, vs := range sh {
			h[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
		}
	}
	req.Header = h
	req.ContentLength = int64(len(m.Body))
	if len(m.Body) == 0 {
		req.Body = http.NoBody
	}
	return req, nil
}

// deliver makes one attempt of l's message and settles it. The attempt has
// its own timeout, not Run's context: a reload lets it finish.
func (w *Worker) deliver(l *Lease) {
	m := l.Message
	at := w.cfg.Now()
	start := time.Now()
	status, reason, retryAfter := w.attempt(m, at)
	took := time.Since(start)

	m.Attempts++
	m.LastAttempt = at
	m.LastStatus = status
	m.LastError = reason

	log := w.cfg.Logger.With(zap.String("route", m.Route), zap.String("id", m.ID), zap.Int("attempt", m.Attempts))
	if status != 0 {
		log = log.With(zap.Int("status", status))
	}
	if reason != "" {
		log = log.With(zap.String("reason", reason))
	}

	sctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	var outcome Outcome
	var err error
	switch {
	case status >= 200 && status < 300:
		outcome = Delivered
		err = w.store.Ack(sctx, l)
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		outcome = Buried
		err = w.store.Bury(sctx, l)
		if err == nil {
			log.Warn("relay: receiver refused the message: dead letter")
		}
	default:
		next, ok := w.next(m, at, retryAfter)
		if !ok {
			m.LastError = "max_age"
			outcome = Buried
			err = w.store.Bury(sctx, l)
			if err == nil {
				log.Warn("relay: message is past max_age: dead letter", zap.String("last_error", reason))
			}
			break
		}
		outcome = Retried
		err = w.store.Retry(sctx, l, next)
		if err == nil {
			w.scheduled(next)
			log.Info("relay: attempt failed, will retry", zap.Time("next", next))
		}
	}
	if err != nil {
		// ErrLeaseLost: the message may be sent again (at least once).
		log.Error("relay: cannot settle an attempt", zap.String("outcome", string(outcome)), zap.Error(err))
	}
	if w.cfg.Observe != nil {
		w.cfg.Observe(outcome, status, took)
	}
}

// maxDrain is how much of an answer's body is read, so that its
// connection can be reused; the body is never kept.
const maxDrain = 64 << 10

// attempt sends m once and returns the receiver's status, or 0 and a short
// reason when there was no answer, and what Retry-After asks for.
func (w *Worker) attempt(m *Message, at time.Time) (status int, reason string, retryAfter time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Timeout)
	defer cancel()
	req, err := w.request(ctx, m, at)
	if err != nil {
		return 0, err.Error(), 0
	}
	client := &http.Client{
		Transport:     w.cfg.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, errorReason(err), 0
	}
	// Drained so the connection can be reused; what it holds is not used.
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
	return resp.StatusCode, "", parseRetryAfter(resp.Header.Get("Retry-After"), w.cfg.Now())
}

// errorReason says in a few words why an attempt had no answer: never the
// error's text, which may quote the URL or the bytes the peer sent.
func errorReason(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return "dns lookup failed"
	case errors.As(err, &certErr):
		return "tls certificate not trusted"
	case errors.As(err, &recordErr):
		return "tls handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "malformed HTTP"):
		return "malformed response"
	case strings.Contains(err.Error(), "tls:"):
		return "tls error"
	}
	return "no answer"
}

// parseRetryAfter reads Retry-After: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// next is when the attempt that failed at at is retried: the schedule's
// delay for its attempt count, ±20%, or longer if Retry-After asks, no
// later than Created+MaxAge. False: it is past max_age, or Retry-After
// asks for a time past it.
func (w *Worker) next(m *Message, at time.Time, retryAfter time.Duration) (time.Time, bool) {
	deadline := m.Created.Add(w.cfg.MaxAge)
	if !at.Before(deadline) {
		return time.Time{}, false
	}
	d := w.cfg.Retry[min(max(m.Attempts, 1), len(w.cfg.Retry))-1]
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // G404: jitter spreads retries; it guards nothing
	if retryAfter > d {
		// A receiver asking for longer than max_age leaves (a hostile or
		// confused one, Retry-After: 99999999999) gets its last attempt
		// at the deadline, not a dead letter now.
		d = retryAfter
	}
	next := at.Add(d)
	if next.After(deadline) {
		next = deadline
	}
	return next, true
}

// timeHeap is a min-heap of times.
type timeHeap []time.Time

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *timeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
