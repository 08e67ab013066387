package relay

import (
	"context"
	"net/http"
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
}

// NewWorker returns a worker for cfg.Route's messages in store.
func NewWorker(store Store, cfg Config) *Worker {
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

// Run delivers due messages until ctx is done. An attempt in progress when
// ctx ends is finished (within Timeout) and settled, never abandoned: so a
// config reload neither loses a message nor has this process send it
// twice. Run returns once every attempt has settled.
func (w *Worker) Run(ctx context.Context) {
	panic("relay: Worker.Run is being written") // replaced by the implementation
}
