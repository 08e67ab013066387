package replay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/internal/redisconn"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix    = "hookguard:replay:"
	DefaultRedisTimeout   = redisconn.DefaultTimeout
	DefaultRedisOpTimeout = 1500 * time.Millisecond
)

// RedisOptions configures NewRedis. Address or URL is required.
type RedisOptions struct {
	// Address is host:port.
	Address string
	// URL is redis://[user:password@]host:port[/db] or rediss://... (TLS),
	// as redis.ParseURL reads it; the fields below override what it says.
	URL string
	// Username and Password authenticate (Redis 6 ACLs; Password alone for
	// requirepass).
	Username string
	Password string
	// DB is the database number.
	DB int
	// TLS connects with TLS 1.2 or later, verifying the server's
	// certificate for the address's host.
	TLS bool
	// TLSConfig, if set, replaces the TLS configuration TLS builds (a
	// private CA, a client certificate) and implies TLS.
	TLSConfig *tls.Config
	// Prefix is put before every key; default DefaultRedisPrefix.
	Prefix string
	// DialTimeout, ReadTimeout and WriteTimeout bound each network step;
	// default DefaultRedisTimeout each, short so that a dead Redis
	// answers fast (the route then answers 503 or fails open).
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Timeout bounds a whole operation, retries included; default
	// DefaultRedisOpTimeout. A Redis that accepts connections but does
	// not answer (stopped, overloaded) would otherwise cost a read
	// timeout per attempt.
	Timeout time.Duration
	// MaxRetries is how often a command is retried on a network error
	// (every script here is safe to run twice); default 1, -1 for none.
	MaxRetries int
	// PoolSize is the most connections open at once; default go-redis's
	// (10 per CPU).
	PoolSize int
}

// Redis is a Store in Redis, shared by every instance that uses the same
// server and prefix. A key holds "r:<token>" while reserved (expiring
// after hold) and "d" once delivered (expiring after window); reserve,
// commit and release are each one Lua script, so they are atomic across
// instances, and commit and release act only for the token's owner.
//
// Every failure to reach Redis is returned wrapped with ErrUnavailable.
// Redis's own eviction (maxmemory-policy) may drop keys: use noeviction
// or volatile-* with memory to spare, since a dropped reservation or
// delivery lets a replay through.
type Redis struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration

	cleanups chan struct{} // slots for abandoned reservations being released
	done     chan struct{} // closed by Close

	closeOnce sync.Once
	closeErr  error
}

// maxCleanups bounds the reservations released in the background at once;
// beyond it a reservation that may have been made expires after its hold.
const maxCleanups = 1024

// Scripts. KEYS[1] is the prefixed key; values are "r:"..token while
// reserved and "d" when delivered.
var (
	// reserveScript returns 0 (Reserved), 1 (InFlight) or 2 (Delivered).
	// The owner's own token counts as Reserved, so a retry of a reserve
	// whose answer was lost returns the reservation it made.
	reserveScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 0
end
if v == ARGV[1] then return 0 end
if v == 'd' then return 2 end
return 1
`)
	// commitScript turns the owner's reservation into a delivery.
	commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
	return 1
end
return 0
`)
	// releaseScript deletes the owner's reservation.
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)
)

// NewRedis returns a Redis store. It does not connect: the first
// operation does, so a configuration can be loaded and validated while
// Redis is down. It fails only on options that cannot work.
func NewRedis(opts RedisOptions) (*Redis, error) {
	ro, err := redisconn.Client(redisconn.Options{
		Address: opts.Address, URL: opts.URL, Username: opts.Username, Password: opts.Password, DB: opts.DB,
		TLS: opts.TLS, TLSConfig: opts.TLSConfig, DialTimeout: opts.DialTimeout, ReadTimeout: opts.ReadTimeout,
		WriteTimeout: opts.WriteTimeout, MaxRetries: opts.MaxRetries, PoolSize: opts.PoolSize,
	}, "replay")
	if err != nil {
		return nil, err
	}

	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{
		client: redis.NewClient(ro), prefix: prefix, timeout: orDefault(opts.Timeout, DefaultRedisOpTimeout),
		cleanups: make(chan struct{}, maxCleanups), done: make(chan struct{}),
	}, nil
}

// SetRedisLogger sends go-redis's own log lines (a failed dial, a
// connection pool event), which it writes to stderr by default, to
// printf. go-redis has one logger per process: the last call wins.
func SetRedisLogger(printf func(ctx context.Context, format string, v ...any)) {
	redis.SetLogger(logFunc(printf))
}

type logFunc func(ctx context.Context, format string, v ...any)

func (f logFunc) Printf(ctx context.Context, format string, v ...any) { f(ctx, format, v...) }

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// px is d in whole milliseconds for PX, at least 1.
func px(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: redis %s: %w", ErrUnavailable, op, err)
}

// Reserve implements Store.
func (r *Redis) Reserve(ctx context.Context, key string, hold time.Duration) (State, Token, error) {
	if hold <= 0 {
		return 0, "", fmt.Errorf("replay: hold %v is not positive", hold)
	}
	// 128 random bits: no other request or instance can name this
	// reservation.
	tok := Token(rand.Text())
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	n, err := reserveScript.Run(ctx, r.client, []string{r.prefix + key}, "r:"+string(tok), px(hold)).Int()
	if err != nil {
		// The script may still run once Redis answers again (a server
		// that was stalled, an answer lost on the way): then the key
		// would stay reserved for the whole hold, and the sender's
		// retries would get 409 for minutes.
		r.abandon(key, tok, hold)
		return 0, "", unavailable("reserve", err)
	}
	switch n {
	case 0:
		return Reserved, tok, nil
	case 1:
		return InFlight, "", nil
	case 2:
		return Delivered, "", nil
	}
	return 0, "", unavailable("reserve", fmt.Errorf("unexpected answer %d", n))
}

// abandon releases, in the background, a reservation that a failed
// Reserve may have made after all. Releasing one that was never made
// changes nothing (the script checks the token). It retries with backoff
// for up to a minute (or the hold, if shorter), stops when the store is
// closed, and runs for at most maxCleanups reservations at once.
func (r *Redis) abandon(key string, tok Token, hold time.Duration) {
	select {
	case r.cleanups <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-r.cleanups }()
		deadline := time.Now().Add(min(hold, time.Minute))
		for wait := 100 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 5*time.Second) {
			if r.Release(context.Background(), key, tok) == nil {
				return
			}
			select {
			case <-r.done:
				return
			case <-time.After(wait):
			}
		}
	}()
}

// Commit implements Store.
func (r *Redis) Commit(ctx context.Context, key string, tok Token, window time.Duration) error {
	if tok == "" {
		return nil
	}
	if window <= 0 {
		// Nothing to remember: as good as released.
		return r.Release(ctx, key, tok)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := commitScript.Run(ctx, r.client, []string{r.prefix + key}, "r:"+string(tok), px(window)).Err(); err != nil {
		return unavailable("commit", err)
	}
	return nil
}

// Release implements Store.
func (r *Redis) Release(ctx context.Context, key string, tok Token) error {
	if tok == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := releaseScript.Run(ctx, r.client, []string{r.prefix + key}, "r:"+string(tok)).Err(); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// Stats implements Store. Counting one prefix's keys in Redis is not
// cheap (SCAN), so Entries and Bytes are unknown; Redis evicts by its own
// policy, unseen here.
func (r *Redis) Stats() Stats {
	return Stats{Entries: -1, Bytes: -1}
}

// Close implements Store: it closes the connections. It is idempotent;
// after it, every operation fails with ErrUnavailable.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		close(r.done)
		r.closeErr = r.client.Close()
	})
	return r.closeErr
}

// Destruct is Close under the name caddy.UsagePool calls when the last
// config using the store is unloaded, so the Caddy layer can pool the
// store itself across reloads.
func (r *Redis) Destruct() error { return r.Close() }

var _ Store = (*Redis)(nil)
