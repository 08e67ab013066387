// Package replay remembers which webhooks were delivered, so that a
// replayed one does not reach the app twice while the sender's honest
// retry after a failed delivery still does. A delivery is identified by a
// key (the sender's signed id, or a digest of the verified MAC); its life
// in a Store is:
//
//	Reserve   first sight: the caller owns the key and passes the request on
//	Commit    the app answered (2xx/3xx/4xx): the key is delivered for a window
//	Release   no answer or a 5xx: the key is forgotten, so a retry gets through
//
// The same key while reserved is InFlight (answer 409, the sender retries
// later); once committed it is Delivered (a duplicate: answer 200 and do
// not pass it on). Stores: an in-memory one, bounded (NewMemory), and
// Redis for several instances behind one address (NewRedis), where
// reserve, commit and release are atomic across instances.
//
// The package has no Caddy import.
package replay

import (
	"context"
	"errors"
	"time"
)

// State is what Reserve found.
type State int

const (
	// Reserved: first sight; the caller now owns the key and must Commit
	// or Release it with the returned Token.
	Reserved State = iota
	// InFlight: another request holds the key and has not finished.
	InFlight
	// Delivered: the key was committed within its window: a duplicate.
	Delivered
)

func (s State) String() string {
	switch s {
	case Reserved:
		return "reserved"
	case InFlight:
		return "in_flight"
	case Delivered:
		return "delivered"
	}
	return "unknown"
}

// Token proves ownership of a reservation: Commit and Release with
// another token (a reservation that expired and was taken by another
// request or instance) change nothing.
type Token string

// Store records delivery keys. Implementations are safe for concurrent
// use.
type Store interface {
	// Reserve takes key for a request in flight, for at most hold (so a
	// reservation whose owner died frees itself), unless it is already
	// reserved or delivered.
	Reserve(ctx context.Context, key string, hold time.Duration) (State, Token, error)
	// Commit marks a reserved key delivered for window.
	Commit(ctx context.Context, key string, tok Token, window time.Duration) error
	// Release forgets a reserved key, so a retry of it is delivered.
	Release(ctx context.Context, key string, tok Token) error
	// Stats reports the store's size, for the admin API and metrics.
	Stats() Stats
	// Close frees the store's resources (connections).
	Close() error
}

// Stats describes a store's contents.
type Stats struct {
	Entries int64 // keys held (reserved or delivered); -1 if unknown
	Bytes   int64 // memory they take, as estimated; -1 if unknown
	Evicted int64 // delivered keys dropped before their window ended to stay within bounds
}

// ErrUnavailable wraps a failure to reach the store (Redis down): the
// caller answers 503, or passes the request on unchecked with fail_open.
var ErrUnavailable = errors.New("replay store unavailable")
