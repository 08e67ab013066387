package caddymodule

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookguard/hookguard/replay"
	"github.com/hookguard/hookguard/verifier"
)

// Replay configures delivery de-duplication on a webhook_verify route: a
// webhook that was already delivered is answered 200 with
// Webhook-Duplicate: true and does not reach the app again; one still in
// flight gets 409; one whose delivery failed (no answer, or a 5xx) is
// forgotten, so the sender's retry gets through. Only verified requests
// are recorded.
type Replay struct {
	// Store is memory (the default: in this process, bounded, kept across
	// config reloads) or redis (shared by several instances).
	Store string `json:"store,omitempty"`

	// Window is how long a delivered webhook is remembered. Default: twice
	// the tolerance plus a minute for timestamped schemes (a timestamp is
	// accepted on either side of now), 24h for the others. A window
	// shorter than twice the tolerance is refused: a replay could outlive
	// it.
	Window caddy.Duration `json:"window,omitempty"`

	// MaxEntries bounds the memory store. Default: 100000. Beyond it the
	// oldest delivered entries are dropped (logged and counted).
	MaxEntries int `json:"max_entries,omitempty"`

	// Address is the Redis server, host:port or a redis:// or rediss://
	// URL. Required for the redis store.
	Address string `json:"address,omitempty"`
	// Username and Password authenticate to Redis; give them as {env.X}
	// or {file.X} placeholders, resolved at provision.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// TLS connects to Redis over TLS (also implied by rediss://).
	TLS bool `json:"tls,omitempty"`
	// Prefix starts every Redis key. Default: hookguard:replay:.
	Prefix string `json:"prefix,omitempty"`
	// FailOpen passes requests on unchecked while Redis is unreachable
	// (logged and counted). Default: answer 503, so the sender retries
	// and nothing is lost.
	FailOpen bool `json:"fail_open,omitempty"`
}

// Defaults of replay.
const (
	defaultReplayMaxEntries = 100_000
	// untimedWindow is the window of schemes without a timestamp: a
	// capture of theirs is valid for ever, so at least a day.
	untimedWindow = 24 * time.Hour
	// replayHold bounds a reservation whose request never finishes (the
	// process died): after it the key is free again. It outlasts any
	// sender's own delivery timeout (GitHub 10s, Stripe 30s), so a
	// request still in flight is not delivered twice.
	replayHold = 5 * time.Minute
	// replayOpTimeout bounds a commit or release once the response is
	// out, whatever the client does.
	replayOpTimeout = 5 * time.Second
)

// replayGuard is a route's provisioned replay protection.
type replayGuard struct {
	store    replay.Store
	poolKey  string // set for a memory store shared through replayPool
	window   time.Duration
	failOpen bool
	scope    string // scheme and route, so routes that share a store never collide
	// sender holds, per configured key (Result.KeyIndex), a digest of its
	// secret: every key names the secret that verified the delivery, so
	// two senders (two routes, or one route with several secrets) that use
	// the same delivery id never collide in a shared store (Redis, whatever
	// the routes' names; Svix sends one message to every endpoint under one
	// id). Per secret, and of nothing else, so adding or removing another
	// secret (a rotation) keeps every key. Not the label: a fingerprint
	// depends on the installation, and instances sharing a Redis must agree.
	sender []string
	// shown keys the replay key for logs, {http.webhook.replay_key} and
	// nothing else: the store's key is a hash of public inputs (scheme,
	// name, the id) and of the secret, so shown as is it would let anyone
	// who holds a delivery test guesses of a weak secret offline (as an
	// unkeyed fingerprint would). Keyed with the installation's
	// fingerprint key, it names a delivery the same way in every log of
	// this installation and tells nothing about the secret.
	shown []byte
	// duplicates, unchecked, evictions and unsettled write the lines a
	// request can cause, rate-limited as refusals are: a replayed webhook
	// in a loop, or one replayed while Redis is down (fail_open), must not
	// write a line every time.
	duplicates, unchecked, evictions, unsettled *rejectionLog
	// evicted is the store's eviction count already warned about.
	evicted atomic.Int64
}

var redisLogOnce sync.Once

// replayPool keeps memory stores across config reloads: a reload must not
// forget what was delivered a second before.
var replayPool = caddy.NewUsagePool()

type pooledMemory struct{ *replay.Memory }

func (p pooledMemory) Destruct() error { return p.Close() }

// provisionReplay sets up the store. tolerance is the route's effective
// timestamp tolerance (0: no timestamp check).
func (v *WebhookVerify) provisionReplay(ctx caddy.Context, tolerance time.Duration) error {
	rc := v.Replay
	if rc == nil {
		return nil
	}
	g := &replayGuard{failOpen: rc.FailOpen, scope: v.Scheme + "\x00" + v.Name}
	for _, k := range v.route.keys {
		h := sha256.New()
		writeField(h, "hookguard replay sender")
		writeField(h, string(k.Secret))
		g.sender = append(g.sender, string(h.Sum(nil)))
	}
	if key, err := LoadFingerprintKey(ctx, configStorage(ctx)); err == nil {
		g.shown = key
	} else {
		// Per process: keys in logs then differ across restarts.
		g.shown = make([]byte, 32)
		if _, err := rand.Read(g.shown); err != nil {
			return fmt.Errorf("making a replay log key: %w", err)
		}
		v.route.logger.Warn("no fingerprint key in Caddy's storage: replay keys in logs are keyed per process", zap.Error(err))
	}
	g.window = time.Duration(rc.Window)
	// Validate has refused a window shorter than twice the tolerance.
	switch {
	case g.window == 0 && v.route.scheme.Timestamped() && tolerance > 0:
		g.window = 2*tolerance + time.Minute
	case g.window == 0:
		g.window = untimedWindow
	}
	switch rc.Store {
	case "", "memory":
		max := rc.MaxEntries
		if max == 0 {
			max = defaultReplayMaxEntries
		}
		// Keyed by the route (scheme and name) and its bound, not by its
		// secrets: a reload that rotates a secret must find the same
		// store. Routes that share one keep apart by the sender part of
		// every key.
		h := sha256.New()
		for _, s := range []string{v.Scheme, v.Name, fmt.Sprint(max)} {
			writeField(h, s)
		}
		g.poolKey = "hookguard replay memory " + hex.EncodeToString(h.Sum(nil))
		val, _, err := replayPool.LoadOrNew(g.poolKey, func() (caddy.Destructor, error) {
			return pooledMemory{replay.NewMemory(replay.MemoryOptions{MaxEntries: max})}, nil
		})
		if err != nil {
			return err
		}
		g.store = val.(pooledMemory).Memory
	case "redis":
		repl := caddy.NewReplacer()
		opts := replay.RedisOptions{TLS: rc.TLS, Prefix: rc.Prefix}
		for _, f := range []struct {
			what string
			in   string
			out  *string
		}{{"address", rc.Address, &opts.Address}, {"username", rc.Username, &opts.Username}, {"password", rc.Password, &opts.Password}} {
			val, err := repl.ReplaceOrErr(f.in, true, true)
			if err != nil {
				// Not err: its text could quote a literal password.
				return fmt.Errorf("replay redis %s: a placeholder in it did not resolve (use {env.NAME} or {file./path})", f.what)
			}
			*f.out = val
		}
		if strings.Contains(opts.Address, "://") {
			opts.URL, opts.Address = opts.Address, ""
		}
		if rc.Password != "" && !isPlaceholder(rc.Password) {
			v.route.logger.Warn("replay redis password is written in the config, so it is also in the JSON config, the admin API's /config/ and autosave.json: give it as {env.NAME} or {file./path}")
		}
		redisLogOnce.Do(func() {
			// go-redis logs (dial failures, pool state) to stderr by
			// default, one logger per process: into Caddy's log instead.
			logger := caddy.Log().Named("http.handlers.webhook_verify.replay.redis")
			replay.SetRedisLogger(func(_ context.Context, format string, args ...any) {
				if ce := logger.Check(zap.DebugLevel, fmt.Sprintf(format, args...)); ce != nil {
					ce.Write()
				}
			})
		})
		st, err := replay.NewRedis(opts)
		if err != nil {
			// Not err: the URL may hold a password.
			return fmt.Errorf("replay redis: the address is not host:port or a redis:// or rediss:// URL")
		}
		g.store = st
	default:
		return fmt.Errorf("replay store %q: use memory or redis", rc.Store)
	}
	g.duplicates = newRejectionLog(v.route.logger, "webhook duplicate: already delivered, not passed on")
	g.unchecked = newLimitedLog(v.route.logger, zapcore.WarnLevel, "replay store unreachable: request passed on UNCHECKED (fail_open)")
	g.evictions = newLimitedLog(v.route.logger, zapcore.WarnLevel, "replay memory store is full: delivered webhooks were forgotten before their window ended, so a replay of them would be delivered again; raise max_entries or use replay redis")
	g.unsettled = newLimitedLog(v.route.logger, zapcore.ErrorLevel, "replay store: could not record the outcome of a delivery")
	v.replay = g
	return nil
}

// cleanupReplay lets go of the store: a memory store stays in the pool
// while another config uses it.
func (v *WebhookVerify) cleanupReplay() {
	if v.replay == nil {
		return
	}
	for _, l := range []*rejectionLog{v.replay.duplicates, v.replay.unchecked, v.replay.evictions, v.replay.unsettled} {
		l.close()
	}
	if v.replay.poolKey != "" {
		_, _ = replayPool.Delete(v.replay.poolKey)
		return
	}
	_ = v.replay.store.Close()
}

// replayKey names a verified delivery. The sender's id only where its
// signature covers it (Standard Webhooks, Svix, an hmac scheme signing
// {id}); otherwise a digest of the MAC that matched (an exact replay
// carries the same signature over the same bytes), or for a token scheme,
// which signs nothing, of the body. An unsigned id header
// (X-GitHub-Delivery) is the sender's claim: anyone replaying could change
// it, so it never picks the key. Each is under a digest of the secret
// that verified the request: another sender's id is not this one's.
// Hashed, so the key is short and shows neither the id's raw text nor a
// MAC.
func (g *replayGuard) key(res verifier.Result) string {
	kind, val := "mac", res.Signature
	switch {
	case res.IDSigned:
		kind, val = "sid", []byte(res.ID)
	case val == nil:
		kind, val = "body", res.BodyDigest
	}
	h := sha256.New()
	writeField(h, g.scope)
	if res.KeyIndex >= 0 && res.KeyIndex < len(g.sender) {
		writeField(h, g.sender[res.KeyIndex])
	}
	writeField(h, kind)
	writeField(h, string(val))
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// showKey is how a store key appears outside the store (see shown).
func (g *replayGuard) showKey(key string) string {
	kind, _, _ := strings.Cut(key, ":")
	m := hmac.New(sha256.New, g.shown)
	m.Write([]byte(key))
	return kind + ":" + hex.EncodeToString(m.Sum(nil)[:12])
}

// writeField writes s length-prefixed, so no two fields run together.
func writeField(h interface{ Write([]byte) (int, error) }, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	_, _ = h.Write(n[:])
	_, _ = h.Write([]byte(s))
}

// serveReplay passes a verified request on at most once per delivery key.
func (v *WebhookVerify) serveReplay(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, res verifier.Result, repl *caddy.Replacer) error {
	g := v.replay
	key := g.key(res)
	shown := g.showKey(key)
	repl.Set("http.webhook.replay_key", shown)
	state, tok, err := g.store.Reserve(r.Context(), key, replayHold)
	if err != nil {
		if g.failOpen {
			v.route.count("replay_unchecked", res.Key)
			if ce := g.unchecked.check("fail_open"); ce != nil {
				ce.Write(zap.Error(err), zap.String("replay_key", shown))
			}
			return next.ServeHTTP(w, r)
		}
		return v.route.refuse(r, http.StatusServiceUnavailable, fmt.Errorf("%w: %v", errReplayUnavailable, err))
	}
	switch state {
	case replay.InFlight:
		return v.route.refuse(r, http.StatusConflict, errInFlight)
	case replay.Delivered:
		v.route.count("duplicate", res.Key)
		// Rate-limited like refusals: replaying one captured webhook in a
		// loop must not fill the disk either.
		if ce := g.duplicates.check("duplicate"); ce != nil {
			ce.Write(zap.String("replay_key", shown), zap.String("id", v.route.deliveryID(r)), zap.String("remote_ip", remoteIP(r)))
		}
		w.Header().Set("Webhook-Duplicate", "true")
		w.WriteHeader(http.StatusOK)
		return nil
	}

	v.route.count("verified", res.Key)
	if g.poolKey != "" {
		g.warnEvicted(v)
	}
	rec := caddyhttp.NewResponseRecorder(w, nil, nil)
	// Deferred: reverse_proxy aborts a response it cannot finish (the app
	// hung up after its headers, the client left mid-body) by panicking
	// with http.ErrAbortHandler, and the outcome must be recorded then
	// too, or the key stays reserved (409s) and is delivered again later.
	returned := false
	defer func() {
		g.settle(v, r, key, shown, tok, replayOutcome(rec.Status(), returned, err))
	}()
	err = next.ServeHTTP(rec, r)
	returned = true
	return err
}

// warnEvicted warns when a full memory store has dropped delivered
// entries before their window ended: a replay of those would be delivered
// again. Checked when a new entry goes in, which is when the store evicts.
func (g *replayGuard) warnEvicted(v *WebhookVerify) {
	ev := g.store.Stats().Evicted
	if ev <= g.evicted.Load() {
		return
	}
	if old := g.evicted.Swap(ev); ev > old {
		if ce := g.evictions.check("evicted"); ce != nil {
			ce.Write(zap.Int64("dropped", ev-old), zap.Int64("dropped_total", ev))
		}
	}
}

// replayOutcome is the status that decides a delivery's fate: the one the
// app's answer already sent (the app has seen the webhook, whatever went
// wrong after), else, if the handler panicked before writing, no answer
// (502), else the handler error's, else 200 (net/http's default).
func replayOutcome(written int, returned bool, err error) int {
	switch {
	case written != 0:
		return written
	case !returned:
		return http.StatusBadGateway
	case err != nil:
		var he caddyhttp.HandlerError
		if errors.As(err, &he) && he.StatusCode != 0 {
			return he.StatusCode
		}
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// settle commits a delivery the app answered (2xx, 3xx, 4xx) and releases
// one it did not (no answer, 5xx), so the sender's retry gets through.
func (g *replayGuard) settle(v *WebhookVerify, r *http.Request, key, shown string, tok replay.Token, status int) {
	// The response is out (or failed): the client going away must not
	// leave the key reserved.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), replayOpTimeout)
	defer cancel()
	var err error
	if status >= 500 {
		err = g.store.Release(ctx, key, tok)
	} else {
		err = g.store.Commit(ctx, key, tok, g.window)
	}
	if err != nil {
		// The reservation expires by itself after replayHold.
		if ce := g.unsettled.check("store_error"); ce != nil {
			ce.Write(zap.Error(err), zap.String("replay_key", shown), zap.Int("status", status))
		}
	}
}

var (
	errInFlight          = errors.New("replay: the same webhook is being delivered now; retry later")
	errReplayUnavailable = errors.New("replay store unavailable; retry later")
)
