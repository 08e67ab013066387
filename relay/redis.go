package relay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/internal/redisconn"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix    = "hookguard:relay:"
	DefaultRedisTimeout   = redisconn.DefaultTimeout
	DefaultRedisOpTimeout = 1500 * time.Millisecond
)

// RedisOptions configures OpenRedis: the replay store's options
// (replay.RedisOptions), with the relay's own key prefix. Address or URL
// is required.
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
	// Instances that share a queue use the same server, DB and prefix.
	Prefix string
	// DialTimeout, ReadTimeout and WriteTimeout bound each network step;
	// default DefaultRedisTimeout each, short so that a dead Redis
	// answers fast (the route then answers 503).
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Timeout bounds a whole operation, retries included; default
	// DefaultRedisOpTimeout.
	Timeout time.Duration
	// MaxRetries is how often a command is retried on a network error;
	// default 1, -1 for none. Every script here is safe to run twice: a
	// second run changes nothing, at worst it answers ErrLeaseLost or
	// ErrNotFound for a change the first run made.
	MaxRetries int
	// PoolSize is the most connections open at once; default go-redis's
	// (10 per CPU).
	PoolSize int
}

// RedisStore is a Store in Redis, shared by every instance that uses the
// same server, DB and prefix: each message is leased to one worker of
// one instance at a time, and a lease that expires (its instance died or
// stalled) makes the message due again for any instance.
//
// Every change is one Lua script, so it is atomic across instances. Keys,
// under the prefix P:
//
//	P msg:<id>        hash: j (the message as JSON), r (route), s (size),
//	                  c (created, RFC 3339), t (lease token, while leased),
//	                  st ("q" queued or "d" dead)
//	P due:<route>     zset of queued ids by when they are due (µs): NextAt,
//	                  or the lease's Until while leased
//	P lease:<route>   zset of leased ids by lease Until (µs): in flight
//	P created:<route> zset of queued ids by Created (µs): the oldest
//	P bytes:<route>   the queued messages' total Size
//	P dead:<route>    zset of dead ids by when they died (µs)
//	P dead-all        the same, every route
//
// Durability: Enqueue returns once Redis has executed the script and
// answered, i.e. the message is in the server's memory. That survives a
// crash of this process and of any hookguard instance, but whether it
// survives a crash or restart of Redis depends on Redis's persistence:
// with appendonly yes and appendfsync always, every acknowledged write
// is on disk; with appendfsync everysec (Redis's default once AOF is on)
// up to about one second of accepted messages can be lost if the Redis
// host crashes (a Redis process crash alone loses nothing, the OS has the
// data); with RDB snapshots only (the default: appendonly no), everything
// since the last snapshot is lost on any Redis restart, and without
// persistence everything is. A replica does not help on its own: Redis
// replicates asynchronously, so a failover can lose the last writes
// (WAIT is not used). Redis's eviction must be noeviction: any other
// maxmemory-policy can silently drop queued messages.
//
// Leases are timed by the instances' clocks (Lease's now; time.Now in
// Ack, Retry and Bury), not Redis's: keep them synchronized (NTP). A clock
// s ahead lets its instance take a message s before its lease ends, so a
// lease should outlast the attempt timeout by more than the worst skew.
//
// Redis Cluster is not supported: the scripts touch a message's and its
// route's keys, which Cluster would put in different slots. A single
// server, or a primary with replicas behind Sentinel, works.
//
// Dead letters do not count against a route's bytes (max_queued) and are
// kept until they are replayed.
type RedisStore struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

// The scripts. Times are microseconds since the Unix epoch (exact in a
// zset's float64 score until the year 2255). A script answers 1 when it
// acted, 0 when the lease token does not match (ErrLeaseLost) or the
// message is not what the call needs (ErrNotFound), -1 for ErrFull.
var (
	// enqueueScript: KEYS msg, due, created, bytes; ARGV json, route,
	// size, created (RFC 3339), next µs, created µs, id, max bytes (0:
	// none). A message already stored (a retried Enqueue whose answer was
	// lost) is left as it is.
	enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local size = tonumber(ARGV[3])
local max = tonumber(ARGV[8])
if max > 0 then
	local held = tonumber(redis.call('GET', KEYS[4]) or '0')
	if held > 0 and held + size > max then return -1 end
end
redis.call('HSET', KEYS[1], 'j', ARGV[1], 'r', ARGV[2], 's', ARGV[3], 'c', ARGV[4], 'st', 'q')
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
redis.call('INCRBY', KEYS[4], size)
return 1
`)
	// leaseScript: KEYS due, lease; ARGV now µs, until µs, token, the
	// message keys' prefix. It answers the message's JSON, or nil.
	leaseScript = redis.NewScript(`
for i = 1, 16 do
	local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
	if #ids == 0 then return false end
	local id = ids[1]
	local key = ARGV[4] .. id
	local j = redis.call('HGET', key, 'j')
	if j then
		redis.call('ZADD', KEYS[1], ARGV[2], id)
		redis.call('ZADD', KEYS[2], ARGV[2], id)
		redis.call('HSET', key, 't', ARGV[3])
		return j
	end
	-- An index entry without its message (never written so): drop it.
	redis.call('ZREM', KEYS[1], id)
	redis.call('ZREM', KEYS[2], id)
end
return false
`)
	// ackScript: KEYS msg, due, lease, created, bytes; ARGV token, id,
	// now µs.
	ackScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
local u = redis.call('ZSCORE', KEYS[3], ARGV[2])
if not u or tonumber(u) <= tonumber(ARGV[3]) then return 0 end
local size = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('DECRBY', KEYS[5], size)
return 1
`)
	// retryScript: KEYS msg, due, lease; ARGV token, id, json, next µs,
	// now µs.
	retryScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
local u = redis.call('ZSCORE', KEYS[3], ARGV[2])
if not u or tonumber(u) <= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'j', ARGV[3])
redis.call('HDEL', KEYS[1], 't')
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
`)
	// buryScript: KEYS msg, due, lease, created, bytes, dead, dead-all;
	// ARGV token, id, json, dead µs (now).
	buryScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
local u = redis.call('ZSCORE', KEYS[3], ARGV[2])
if not u or tonumber(u) <= tonumber(ARGV[4]) then return 0 end
local size = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
redis.call('HSET', KEYS[1], 'j', ARGV[3], 'st', 'd')
redis.call('HDEL', KEYS[1], 't')
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('DECRBY', KEYS[5], size)
redis.call('ZADD', KEYS[6], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[7], ARGV[4], ARGV[2])
return 1
`)
	// replayScript: KEYS msg, due, created, bytes, dead, dead-all; ARGV
	// id, json, now µs, created µs, created as the enqueue writes it.
	replayScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'st') ~= 'd' then return 0 end
local size = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
redis.call('HSET', KEYS[1], 'j', ARGV[2], 'st', 'q', 'c', ARGV[5])
redis.call('HDEL', KEYS[1], 't')
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('INCRBY', KEYS[4], size)
return 1
`)
	// statsScript: KEYS due, lease, created, bytes, dead; ARGV now µs,
	// the message keys' prefix. It answers queued, bytes, in flight,
	// dead and the oldest message's created (RFC 3339, or "").
	statsScript = redis.NewScript(`
local oldest = ''
local ids = redis.call('ZRANGE', KEYS[3], 0, 0)
if #ids > 0 then oldest = redis.call('HGET', ARGV[2] .. ids[1], 'c') or '' end
return {
	redis.call('ZCARD', KEYS[1]),
	tonumber(redis.call('GET', KEYS[4]) or '0'),
	redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf'),
	redis.call('ZCARD', KEYS[5]),
	oldest,
}
`)
)

// OpenRedis returns a RedisStore connected to the server opts name. It
// pings the server (within the operation Timeout) and fails if it does
// not answer, so a configuration that names an unreachable or refusing
// Redis fails at load. The error names the address, never the password.
func OpenRedis(opts RedisOptions) (*RedisStore, error) {
	ro, err := redisOptions(opts)
	if err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	r := &RedisStore{client: redis.NewClient(ro), prefix: prefix, timeout: orDefault(opts.Timeout, DefaultRedisOpTimeout)}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		_ = r.client.Close() // the ping's error is the one that matters
		return nil, fmt.Errorf("relay: redis at %s does not answer: %w", ro.Addr, err)
	}
	return r, nil
}

// redisOptions builds go-redis's options as every store of hookguard
// connects (package redisconn).
func redisOptions(opts RedisOptions) (*redis.Options, error) {
	return redisconn.Client(redisconn.Options{
		Address: opts.Address, URL: opts.URL, Username: opts.Username, Password: opts.Password, DB: opts.DB,
		TLS: opts.TLS, TLSConfig: opts.TLSConfig, DialTimeout: opts.DialTimeout, ReadTimeout: opts.ReadTimeout,
		WriteTimeout: opts.WriteTimeout, MaxRetries: opts.MaxRetries, PoolSize: opts.PoolSize,
	}, "relay")
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// micros is t as a zset score.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func (r *RedisStore) msgKey(id string) string { return r.prefix + "msg:" + id }
func (r *RedisStore) key(kind, route string) string {
	return r.prefix + kind + ":" + route
}
func (r *RedisStore) deadAllKey() string { return r.prefix + "dead-all" }

// op bounds one operation by the store's Timeout.
func (r *RedisStore) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// failed wraps a Redis error. Redis's and go-redis's errors name the
// command or the network step, never a script's arguments, so no body or
// header value reaches the text.
func failed(op string, err error) error { return fmt.Errorf("relay: redis %s: %w", op, err) }

// encode is m as stored. json.Marshal of a Message fails only on a time
// outside years 0-9999.
func encode(m *Message) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("relay: encoding message %s: %w", m.ID, err)
	}
	return string(b), nil
}

func decode(id, j string) (*Message, error) {
	m := new(Message)
	if err := json.Unmarshal([]byte(j), m); err != nil {
		// The error names the position, not the content.
		return nil, fmt.Errorf("relay: redis: message %s is corrupt: %w", id, err)
	}
	return m, nil
}

// Enqueue implements Store. It returns once Redis has answered: see the
// type's documentation for what makes that durable.
func (r *RedisStore) Enqueue(ctx context.Context, m *Message, maxBytes int64) error {
	if m.ID == "" || m.Route == "" {
		return errors.New("relay: a message needs an id and a route")
	}
	j, err := encode(m)
	if err != nil {
		return err
	}
	created, err := m.Created.MarshalText()
	if err != nil {
		return fmt.Errorf("relay: message %s: created: %w", m.ID, err)
	}
	ctx, cancel := r.op(ctx)
	defer cancel()
	keys := []string{r.msgKey(m.ID), r.key("due", m.Route), r.key("created", m.Route), r.key("bytes", m.Route)}
	n, err := enqueueScript.Run(ctx, r.client, keys, j, m.Route, m.Size(), string(created),
		micros(m.NextAt), micros(m.Created), m.ID, max(maxBytes, 0)).Int()
	if err != nil {
		return failed("enqueue", err)
	}
	if n < 0 {
		return ErrFull
	}
	return nil
}

// Lease implements Store.
func (r *RedisStore) Lease(ctx context.Context, route string, now time.Time, d time.Duration) (*Lease, error) {
	if d <= 0 {
		return nil, fmt.Errorf("relay: lease duration %v is not positive", d)
	}
	// 128 random bits: no other worker or instance can name this lease.
	tok := rand.Text()
	until := now.Add(d)
	ctx, cancel := r.op(ctx)
	defer cancel()
	j, err := leaseScript.Run(ctx, r.client, []string{r.key("due", route), r.key("lease", route)},
		micros(now), micros(until), tok, r.prefix+"msg:").Text()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		// If the script ran after all, the message is leased to no one
		// until until: delayed by d, not lost.
		return nil, failed("lease", err)
	}
	m, err := decode("leased in "+route, j)
	if err != nil {
		return nil, err
	}
	return &Lease{Message: m, Token: tok, Until: until}, nil
}

// settle runs a script that answers 1, or 0 for ErrLeaseLost.
func (r *RedisStore) settle(ctx context.Context, op string, s *redis.Script, keys []string, args ...any) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	n, err := s.Run(ctx, r.client, keys, args...).Int()
	if err != nil {
		return failed(op, err)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Ack implements Store. Ack, Retry and Bury act only while the message
// holds l's token and l has not expired by this machine's clock (the
// clock Lease was given now by): past l.Until they answer ErrLeaseLost,
// whether or not another worker has leased the message since.
func (r *RedisStore) Ack(ctx context.Context, l *Lease) error {
	m := l.Message
	return r.settle(ctx, "ack", ackScript,
		[]string{r.msgKey(m.ID), r.key("due", m.Route), r.key("lease", m.Route), r.key("created", m.Route), r.key("bytes", m.Route)},
		l.Token, m.ID, micros(time.Now()))
}

// Retry implements Store.
func (r *RedisStore) Retry(ctx context.Context, l *Lease, next time.Time) error {
	m := *l.Message
	m.NextAt = next
	j, err := encode(&m)
	if err != nil {
		return err
	}
	return r.settle(ctx, "retry", retryScript,
		[]string{r.msgKey(m.ID), r.key("due", m.Route), r.key("lease", m.Route)},
		l.Token, m.ID, j, micros(next), micros(time.Now()))
}

// Bury implements Store. The dead letter's Dead is the time now.
func (r *RedisStore) Bury(ctx context.Context, l *Lease) error {
	m := *l.Message
	m.Dead = time.Now()
	j, err := encode(&m)
	if err != nil {
		return err
	}
	return r.settle(ctx, "bury", buryScript,
		[]string{r.msgKey(m.ID), r.key("due", m.Route), r.key("lease", m.Route), r.key("created", m.Route),
			r.key("bytes", m.Route), r.key("dead", m.Route), r.deadAllKey()},
		l.Token, m.ID, j, micros(m.Dead))
}

// Dead implements Store.
func (r *RedisStore) Dead(ctx context.Context, route string, limit int) ([]*Message, error) {
	key := r.deadAllKey()
	if route != "" {
		key = r.key("dead", route)
	}
	ctx, cancel := r.op(ctx)
	defer cancel()
	ids, err := r.client.ZRange(ctx, key, 0, int64(max(limit, 0))-1).Result()
	if err != nil {
		return nil, failed("dead", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGet(ctx, r.msgKey(id), "j")
	}
	// Each command's own error is read below.
	_, _ = pipe.Exec(ctx)
	out := make([]*Message, 0, len(ids))
	for i, c := range cmds {
		j, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue // replayed and delivered since the listing
		}
		if err != nil {
			return nil, failed("dead", err)
		}
		m, err := decode(ids[i], j)
		if err != nil {
			return nil, err
		}
		if m.Dead.IsZero() {
			continue // replayed since the listing
		}
		out = append(out, m)
	}
	return out, nil
}

// Get implements Store.
func (r *RedisStore) Get(ctx context.Context, id string) (*Message, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	j, err := r.client.HGet(ctx, r.msgKey(id), "j").Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, failed("get", err)
	}
	return decode(id, j)
}

// Replay implements Store. The message is accepted anew: Created is now,
// so it gets a whole max_age of retries (as BoltStore does), not the
// single attempt an old dead letter would otherwise have left.
func (r *RedisStore) Replay(ctx context.Context, id string, now time.Time) error {
	m, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.Dead.IsZero() {
		return ErrNotFound
	}
	m.Dead = time.Time{}
	m.Attempts = 0
	m.NextAt = now
	m.Created = now
	j, err := encode(m)
	if err != nil {
		return err
	}
	created, err := m.Created.MarshalText()
	if err != nil {
		return fmt.Errorf("relay: message %s: created: %w", m.ID, err)
	}
	ctx, cancel := r.op(ctx)
	defer cancel()
	// The script checks the message is still dead: of two replays at
	// once, one acts.
	n, err := replayScript.Run(ctx, r.client,
		[]string{r.msgKey(id), r.key("due", m.Route), r.key("created", m.Route), r.key("bytes", m.Route),
			r.key("dead", m.Route), r.deadAllKey()},
		id, j, micros(now), micros(m.Created), string(created)).Int()
	if err != nil {
		return failed("replay", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Stats implements Store: one script, O(log n) in the route's size.
func (r *RedisStore) Stats(ctx context.Context, route string, now time.Time) (Stats, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	v, err := statsScript.Run(ctx, r.client,
		[]string{r.key("due", route), r.key("lease", route), r.key("created", route), r.key("bytes", route), r.key("dead", route)},
		micros(now), r.prefix+"msg:").Slice()
	if err != nil {
		return Stats{}, failed("stats", err)
	}
	if len(v) != 5 {
		return Stats{}, failed("stats", fmt.Errorf("unexpected answer of %d values", len(v)))
	}
	var s Stats
	n := func(i int) int64 { x, _ := v[i].(int64); return x }
	s.Queued, s.Bytes, s.InFlight, s.Dead = int(n(0)), n(1), int(n(2)), int(n(3))
	if c, _ := v[4].(string); c != "" {
		if err := s.Oldest.UnmarshalText([]byte(c)); err != nil {
			return Stats{}, failed("stats", err)
		}
	}
	return s, nil
}

// Close implements Store: it closes the connections. It is idempotent;
// after it every operation fails.
func (r *RedisStore) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.client.Close() })
	return r.closeErr
}

// Destruct is Close under the name caddy.UsagePool calls when the last
// config using the store is unloaded, so the Caddy layer can share one
// store across reloads.
func (r *RedisStore) Destruct() error { return r.Close() }

var _ Store = (*RedisStore)(nil)
