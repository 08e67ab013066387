// Package relay is hookguard's durable store-and-forward queue: a webhook
// accepted by webhook_relay is written to a Store (bbolt on this machine,
// or Redis shared by several instances) before the sender is answered, and
// a Worker delivers it to its receiver with retries until it is delivered,
// refused for good (a dead letter) or too old.
//
// The package has no Caddy import: the Caddy module (caddymodule) gives it
// an HTTP transport, a signer and its logger.
package relay

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Message is one accepted webhook and its delivery state.
type Message struct {
	// ID is the relay id, answered to the sender as Webhook-Relay-Id and
	// sent as the message id on every attempt (Standard Webhooks'
	// webhook-id where the relay signs).
	ID string `json:"id"`
	// Route names the webhook_relay route that accepted it.
	Route string `json:"route"`
	// URL is where it is delivered: the route's URL, with the request's
	// own path and query when the route's URL has no path.
	URL string `json:"url"`
	// Method, Header and Body are the request as accepted, the body byte
	// for byte.
	Method string      `json:"method"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`

	// Created is when it was accepted.
	Created time.Time `json:"created"`
	// Attempts is how many deliveries were tried.
	Attempts int `json:"attempts"`
	// NextAt is when the next attempt is due.
	NextAt time.Time `json:"next_at"`
	// LastAttempt, LastStatus and LastError describe the last attempt:
	// the receiver's status, or why there was none (never a secret).
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	// Dead is when it was dead-lettered; zero while it is queued.
	Dead time.Time `json:"dead,omitzero"`
}

// Size is what the message counts against a route's max_queued: its body
// and headers.
func (m *Message) Size() int64 {
	n := int64(len(m.Body) + len(m.URL) + len(m.Method))
	for k, vs := range m.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v))
		}
	}
	return n
}

// Lease is a message handed to one worker: until Until, no other worker
// (of this process or, with Redis, of another) is given it. Token proves
// the holder when it settles the message.
type Lease struct {
	Message *Message
	Token   string
	Until   time.Time
}

// Stats is a route's queue as the admin API shows it.
type Stats struct {
	// Queued and Bytes are the messages waiting or in flight, and their
	// size (Message.Size).
	Queued int   `json:"queued"`
	Bytes  int64 `json:"bytes"`
	// InFlight is how many are leased now.
	InFlight int `json:"in_flight"`
	// Oldest is when the oldest queued message was accepted; zero if
	// none is.
	Oldest time.Time `json:"oldest,omitzero"`
	// Dead is how many dead letters the route has.
	Dead int `json:"dead"`
}

// ErrFull is Enqueue's error when a route holds max_queued bytes already:
// the sender is answered 503 with Retry-After and retries.
var ErrFull = errors.New("relay queue full")

// ErrNotFound is the error for an id no message has (or, for Replay, no
// dead letter).
var ErrNotFound = errors.New("no such relay message")

// ErrLeaseLost is Ack's, Retry's or Bury's error when the lease has
// expired and the message may have been handed to another worker.
var ErrLeaseLost = errors.New("relay lease lost")

// Store keeps messages durably. Every method is safe for concurrent use.
type Store interface {
	// Enqueue writes m, due at m.NextAt, and returns only once it is
	// durable (synced to disk, or acknowledged by Redis), or ErrFull when
	// the route already holds maxBytes (0: no bound).
	Enqueue(ctx context.Context, m *Message, maxBytes int64) error
	// Lease hands out one message of route due at or before now, leased
	// for d, or nil when none is due.
	Lease(ctx context.Context, route string, now time.Time, d time.Duration) (*Lease, error)
	// Ack removes a delivered message.
	Ack(ctx context.Context, l *Lease) error
	// Retry records a failed attempt (l.Message's Attempts, LastAttempt,
	// LastStatus, LastError) and makes it due again at next.
	Retry(ctx context.Context, l *Lease, next time.Time) error
	// Bury moves a message to the dead letters, with its last attempt
	// recorded as in Retry.
	Bury(ctx context.Context, l *Lease) error
	// Dead lists a route's dead letters ("" route: every route), oldest
	// first, at most limit (0: all).
	Dead(ctx context.Context, route string, limit int) ([]*Message, error)
	// Get returns a queued or dead message by id.
	Get(ctx context.Context, id string) (*Message, error)
	// Replay queues a dead letter again, due now, with its attempts reset.
	Replay(ctx context.Context, id string, now time.Time) error
	// Stats describes a route's queue at now.
	Stats(ctx context.Context, route string, now time.Time) (Stats, error)
	// Close releases the store.
	Close() error
}
