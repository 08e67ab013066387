package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/relay"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/spool"
)

func init() {
	caddy.RegisterModule(WebhookRelay{})
}

// WebhookRelay is a terminal handler that never loses a webhook: it
// writes the request (method, path, query, headers, exact body) to a
// durable store, answers the sender 202 with Webhook-Relay-Id only once
// the write is synced, and a worker delivers it to URL, retrying on the
// schedule given until it is delivered (2xx), refused for good (4xx other
// than 408 and 429: a dead letter) or older than MaxAge (a dead letter
// too). Dead letters are listed and replayed through the admin API
// (GET /webhooks/relay/dead, POST /webhooks/relay/dead/<id>/replay) and
// `webhook relay`.
//
// After webhook_verify it protects an app that is down; with Sign it is
// the outbound relay of an app that sends webhooks, signing each attempt
// afresh (a new timestamp, the same message id).
type WebhookRelay struct {
	// URL is where messages are delivered. Without a path, the request's
	// own path and query are kept, as reverse_proxy does.
	URL string `json:"url"`

	// Sign, if set, signs every attempt with the scheme and its secrets
	// (or private keys), as webhook_sign would, with the relay id as the
	// message id.
	Sign *RelaySign `json:"sign,omitempty"`

	// Retry is the backoff schedule, jittered; the last repeats. Default:
	// 10s 1m 5m 30m 2h 6h 12h 24h.
	Retry []caddy.Duration `json:"retry,omitempty"`
	// MaxAge is how long after it was accepted a message is retried
	// before it is dead-lettered. Default: 72h.
	MaxAge caddy.Duration `json:"max_age,omitempty"`
	// Timeout bounds one attempt. Default: 30s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// Store is where messages are kept: bbolt in Caddy's data directory
	// by default, or Redis shared by several instances.
	Store *RelayStore `json:"store,omitempty"`

	// MaxQueued bounds the bytes (bodies and headers) the route holds;
	// when full, new webhooks get 503 with Retry-After, so the sender
	// retries and nothing is lost. Default: no bound.
	MaxQueued int64 `json:"max_queued,omitempty"`
	// MaxBody is the largest body accepted; larger gets 413. Default:
	// 25MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Name names the route in logs, metrics and the admin API. Default: a
	// name made from the URL.
	Name string `json:"name,omitempty"`

	// TransportRaw is reverse_proxy's HTTP transport, with its TLS
	// settings (tls_trust_pool, tls_server_name, tls_insecure_skip_verify)
	// for this route only.
	TransportRaw json.RawMessage `json:"transport,omitempty" caddy:"namespace=http.reverse_proxy.transport inline_key=protocol"`

	rt  *relayRoute
	app *caddyhttp.App
}

// RelaySign is how a relay signs its attempts.
type RelaySign struct {
	Scheme  string   `json:"scheme"`
	Secrets []Secret `json:"secrets,omitempty"`
	// PrivateKeys sign for a key-pair scheme (standard-v1a).
	PrivateKeys []Secret `json:"private_keys,omitempty"`
}

// RelayStore says where a relay keeps its messages.
type RelayStore struct {
	// Kind is bbolt (the default) or redis.
	Kind string `json:"kind,omitempty"`
	// Path is the bbolt file. Default: hookguard/relay.db in Caddy's data
	// directory. Routes on one file share one handle, kept across config
	// reloads.
	Path string `json:"path,omitempty"`
	// Address, Username, Password, TLS and Prefix connect to Redis, as
	// replay redis does. Prefix default: hookguard:relay:.
	Address  string `json:"address,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	TLS      bool   `json:"tls,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (WebhookRelay) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.webhook_relay",
		New: func() caddy.Module { return new(WebhookRelay) },
	}
}

// relayRoute is a provisioned relay: its store, its worker and what the
// admin API shows of it.
type relayRoute struct {
	name    string
	url     *url.URL
	keepURI bool // URL has no path: the request's own path and query go on
	store   relay.Store
	poolKey string
	worker  *relay.Worker
	cancel  context.CancelFunc
	done    chan struct{}
	maxBody int64
	maxQ    int64
	// budget bounds the bodies this route holds in memory while they are
	// read and written to the store: a burst of large ones gets 503 with
	// Retry-After (the senders retry) rather than exhaust memory.
	budget *spool.Budget
	sign   *scheme.Scheme
	logger *zap.Logger
	app    *caddyhttp.App // the config's, for relayNames
	m      *relayCollectors
	now    func() time.Time
}

// relayStores shares one store per bbolt file or Redis target across
// routes and config reloads: bbolt allows one handle per file, and a
// message leased by the old config's worker must not be leased again by
// the new one's while it is being delivered.
var relayStores = caddy.NewUsagePool()

type pooledStore struct{ relay.Store }

func (p pooledStore) Destruct() error { return p.Close() }

// Provision opens the store and starts the worker.
func (h *WebhookRelay) Provision(ctx caddy.Context) error {
	if err := h.Validate(); err != nil {
		return err
	}
	logger := ctx.Logger()
	name, err := claimRelayName(ctx, h)
	if err != nil {
		return err
	}
	provisioned := false
	defer func() {
		if !provisioned { // Cleanup is not called for a failed Provision
			releaseRelayName(&relayRoute{name: name, app: h.app})
		}
	}()
	rr := &relayRoute{name: name, app: h.app, maxBody: h.MaxBody, maxQ: h.MaxQueued, now: time.Now, budget: spool.NewBudget(relayBufferMemory)}
	if rr.maxBody == 0 {
		rr.maxBody = DefaultMaxBody
	}
	rr.url, _ = url.Parse(h.URL)   // checked by Validate
	rr.keepURI = rr.url.Path == "" // http://app:3000, not http://app:3000/ (a path: "/")
	// The worker names the route in its own lines.
	rr.logger = logger

	var transport http.RoundTripper
	if h.TransportRaw != nil {
		mod, err := ctx.LoadModule(h, "TransportRaw")
		if err != nil {
			return fmt.Errorf("webhook_relay %s: loading transport: %w", rr.name, err)
		}
		rt, ok := mod.(http.RoundTripper)
		if !ok {
			return fmt.Errorf("webhook_relay %s: transport %T cannot send requests", rr.name, mod)
		}
		transport = rt
	} else {
		t := new(reverseproxy.HTTPTransport)
		if err := t.Provision(ctx); err != nil {
			return fmt.Errorf("webhook_relay %s: transport: %w", rr.name, err)
		}
		transport = t
	}
	transport = replacerTransport{transport}

	var signFn func(*relay.Message, time.Time) (http.Header, error)
	if h.Sign != nil {
		s, keys, err := h.signKeys(ctx, logger)
		if err != nil {
			return fmt.Errorf("webhook_relay %s: %w", rr.name, err)
		}
		rr.sign = s
		signFn = func(m *relay.Message, at time.Time) (http.Header, error) {
			return signer.SignKeys(s, keys, signer.Message{Body: m.Body, ID: signer.IDFor(s, m.ID), Time: at, Method: m.Method, URL: m.URL})
		}
	}

	key, open, err := h.storeOpener(ctx)
	if err != nil {
		return fmt.Errorf("webhook_relay %s: %w", rr.name, err)
	}
	val, _, err := relayStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		st, err := open()
		if err != nil {
			return nil, err
		}
		return pooledStore{st}, nil
	})
	if err != nil {
		return fmt.Errorf("webhook_relay %s: %w", rr.name, err)
	}
	rr.store, rr.poolKey = val.(pooledStore).Store, key

	m, err := registerRelayMetrics(ctx.GetMetricsRegistry())
	if err != nil {
		return err
	}
	rr.m = m
	retry := make([]time.Duration, len(h.Retry))
	for i, d := range h.Retry {
		retry[i] = time.Duration(d)
	}
	rr.worker = relay.NewWorker(rr.store, relay.Config{
		Route: rr.name, Retry: retry, MaxAge: time.Duration(h.MaxAge), Timeout: time.Duration(h.Timeout),
		// 16 attempts at once: a queue that built up while the receiver
		// was down drains at well over the rate accepts come in (each
		// settle waits for a store commit), without a stampede of more.
		Workers: 16, Transport: transport, Sign: signFn, Logger: rr.logger,
		Observe: func(o relay.Outcome, status int, took time.Duration) {
			m.attempts.WithLabelValues(rr.name, string(o)).Inc()
			m.attemptDuration.WithLabelValues(rr.name, string(o)).Observe(took.Seconds())
		},
	})
	// The worker runs on its own context, cancelled by Cleanup only after
	// this config is replaced: attempts in flight then finish and settle.
	runCtx, cancel := context.WithCancel(context.Background())
	rr.cancel, rr.done = cancel, make(chan struct{})
	go func() {
		defer close(rr.done)
		rr.worker.Run(runCtx)
	}()
	go rr.watch(runCtx, m)
	h.rt = rr
	provisioned = true
	liveRelays.add(rr)
	if h.Sign != nil {
		if why := exposure(ctx, h, "webhook_relay"); why != "" {
			logger.Warn("open signing relay: anyone who can reach this server can have webhooks of their choosing signed by this relay and delivered; "+
				"serve it only to internal callers (a site with bind 127.0.0.1 ::1, or a remote_ip private_ranges matcher) or put webhook_verify before it",
				zap.String("route", rr.name), zap.String("because", why))
		}
	}
	if signsBefore(ctx, h) {
		logger.Warn("webhook_sign runs before webhook_relay in this route: its timestamp is stamped once, at acceptance, and goes stale on retries; remove webhook_sign and give webhook_relay a sign line, which signs each attempt afresh")
	}
	logger.Info("webhook relay loaded", zap.String("route", rr.name), zap.String("url", redactURL(rr.url)), zap.Bool("signs", h.Sign != nil),
		zap.String("store", h.storeKind()), zap.Int64("max_queued", h.MaxQueued))
	return nil
}

// watch keeps the queue gauges current.
func (rr *relayRoute) watch(ctx context.Context, m *relayCollectors) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if st, err := rr.store.Stats(ctx, rr.name, rr.now()); err == nil {
			m.depth.WithLabelValues(rr.name).Set(float64(st.Queued))
			age := 0.0
			if !st.Oldest.IsZero() {
				age = rr.now().Sub(st.Oldest).Seconds()
			}
			m.oldest.WithLabelValues(rr.name).Set(age)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cleanup stops the worker once its attempts in flight have settled, then
// lets go of the store (closed when no config uses it any more).
func (h *WebhookRelay) Cleanup() error {
	rr := h.rt
	if rr == nil {
		return nil
	}
	liveRelays.remove(rr)
	releaseRelayName(rr)
	rr.cancel()
	<-rr.done
	_, err := relayStores.Delete(rr.poolKey)
	return err
}

// ServeHTTP accepts the webhook: it is written durably, then answered
// 202. It never calls next.
func (h *WebhookRelay) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	rr := h.rt
	if r.ContentLength > rr.maxBody {
		return caddyhttp.Error(http.StatusRequestEntityTooLarge, errBodyTooLarge)
	}
	br := &budgetReader{r: http.MaxBytesReader(w, r.Body, rr.maxBody), b: rr.budget}
	defer br.release()
	body, err := io.ReadAll(br)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return caddyhttp.Error(http.StatusRequestEntityTooLarge, errBodyTooLarge)
		case errors.Is(err, errRelayBusy):
			w.Header().Set("Retry-After", "5")
			rr.m.refused.WithLabelValues(rr.name, "busy").Inc()
			return caddyhttp.Error(http.StatusServiceUnavailable, err)
		}
		return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading the body: %w", err))
	}
	now := rr.now()
	m := &relay.Message{
		ID: newRelayID(), Route: rr.name, URL: rr.target(r), Method: r.Method,
		Header: relayHeaders(r.Header, rr.sign), Body: body, Created: now, NextAt: now,
	}
	if err := rr.store.Enqueue(r.Context(), m, rr.maxQ); err != nil {
		w.Header().Set("Retry-After", "30")
		if errors.Is(err, relay.ErrFull) {
			rr.m.refused.WithLabelValues(rr.name, "full").Inc()
			return caddyhttp.Error(http.StatusServiceUnavailable, errors.New("relay queue full (max_queued)"))
		}
		rr.m.refused.WithLabelValues(rr.name, "store_error").Inc()
		rr.logger.Error("cannot store a webhook; answered 503 so the sender retries", zap.String("route", rr.name), zap.Error(err))
		return caddyhttp.Error(http.StatusServiceUnavailable, errors.New("relay store unavailable"))
	}
	rr.m.accepted.WithLabelValues(rr.name).Inc()
	rr.worker.Wake()
	w.Header().Set("Webhook-Relay-Id", m.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// target is the URL a request is delivered to: the route's, with the
// request's path and query when the route's URL has no path.
func (rr *relayRoute) target(r *http.Request) string {
	if !rr.keepURI {
		return rr.url.String()
	}
	u := *rr.url
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	return u.String()
}

// relayHeaders is what of a request's headers is stored: when the relay
// signs, not the scheme's headers, which each attempt sets afresh, nor the
// caller's credentials. (Hop-by-hop headers, Host and Content-Length are
// left out at each attempt, by the worker.)
func relayHeaders(in http.Header, s *scheme.Scheme) http.Header {
	out := in.Clone()
	if s != nil {
		for _, name := range s.Names() {
			out.Del(name)
		}
		// An outbound relay's caller is an internal app: its credentials
		// are meant for this gateway, never for a third party's receiver
		// (as webhook_sign does).
		for _, name := range callerCredentials {
			out.Del(name)
		}
	}
	return out
}

func newRelayID() string { return "rly_" + strings.TrimPrefix(signer.NewID(), "msg_") }

// replacerTransport gives each attempt what Caddy's HTTP transport may
// look up in a request's context (a replacer, the vars map), as a request
// through reverse_proxy would have.
type replacerTransport struct{ rt http.RoundTripper }

func (t replacerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	return t.rt.RoundTrip(req.WithContext(ctx))
}

// signKeys builds the sign scheme and resolves its keys.
func (h *WebhookRelay) signKeys(ctx caddy.Context, logger *zap.Logger) (*scheme.Scheme, []scheme.Key, error) {
	s, err := preset.Get(h.Sign.Scheme, preset.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	list, word := h.Sign.Secrets, "secret"
	if s.Asymmetric() {
		list, word = h.Sign.PrivateKeys, "private_key"
	}
	keys, err := resolveKeys(ctx, logger, list, s, time.Now(), word, func(n int, label string, rep signer.Report) error {
		return fmt.Errorf("sign secret %d: %w; generate one with %s", n, rep.Err(), subcommand("secret"))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	return s, keys.active, nil
}

// storeOpener returns the pool key of the route's store and how to open it.
func (h *WebhookRelay) storeOpener(ctx caddy.Context) (string, func() (relay.Store, error), error) {
	st := h.Store
	if st == nil {
		st = &RelayStore{}
	}
	if st.Kind == "redis" {
		repl := caddy.NewReplacer()
		user, err := repl.ReplaceOrErr(st.Username, true, true)
		if err != nil && st.Username != "" {
			return "", nil, fmt.Errorf("store redis username: %s", placeholderProblem(st.Username, err))
		}
		pass, err := repl.ReplaceOrErr(st.Password, true, true)
		if err != nil && st.Password != "" {
			return "", nil, fmt.Errorf("store redis password: %s", placeholderProblem(st.Password, err))
		}
		opts := relay.RedisOptions{Username: user, Password: pass, TLS: st.TLS, Prefix: st.Prefix}
		if strings.Contains(st.Address, "://") {
			opts.URL = st.Address
		} else {
			opts.Address = st.Address
		}
		// The key tells targets apart without holding the password.
		sum := sha256.Sum256([]byte(st.Address + "\x00" + user + "\x00" + pass + "\x00" + st.Prefix + "\x00" + strconv.FormatBool(st.TLS)))
		return "redis:" + hex.EncodeToString(sum[:]), func() (relay.Store, error) {
			s, err := relay.OpenRedis(opts)
			if err != nil {
				return nil, err
			}
			return s, nil
		}, nil
	}
	path := st.Path
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "hookguard", "relay.db")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	return "bbolt:" + abs, func() (relay.Store, error) {
		s, err := relay.OpenBolt(abs)
		if err != nil {
			return nil, err
		}
		return s, nil
	}, nil
}

func (h *WebhookRelay) storeKind() string {
	if h.Store != nil && h.Store.Kind == "redis" {
		return "redis"
	}
	return "bbolt"
}

// relayNames are the names of the relays of each config being loaded or
// running, keyed by its http app: two relays of one config with one name
// would share one queue, and one's worker would deliver the other's
// messages with its own signing key and transport.
var relayNames = struct {
	sync.Mutex
	m map[*caddyhttp.App]map[string]bool
}{m: map[*caddyhttp.App]map[string]bool{}}

// claimRelayName returns h's name: its own, refused if another relay of
// the config has it, or "relay <host>" (then #2, #3...): never its URL's
// path, which may hold a token (Slack's and Discord's webhook URLs do),
// and names are metric labels and log fields.
func claimRelayName(ctx caddy.Context, h *WebhookRelay) (string, error) {
	var app *caddyhttp.App
	for _, m := range ctx.Modules() {
		if a, ok := m.(*caddyhttp.App); ok {
			app = a
		}
	}
	h.app = app
	relayNames.Lock()
	defer relayNames.Unlock()
	names := relayNames.m[app]
	if names == nil {
		names = map[string]bool{}
		relayNames.m[app] = names
	}
	name := h.Name
	if name != "" {
		if names[name] {
			return "", fmt.Errorf("webhook_relay: another webhook_relay of this config is named %q: two routes with one name would share one queue (and each one's worker deliver the other's messages); give each its own name", name)
		}
	} else {
		base := "relay"
		if u, err := url.Parse(h.URL); err == nil {
			base += " " + u.Host
		}
		name = base
		for n := 2; names[name]; n++ {
			name = fmt.Sprintf("%s #%d", base, n)
		}
	}
	names[name] = true
	return name, nil
}

func releaseRelayName(rr *relayRoute) {
	relayNames.Lock()
	defer relayNames.Unlock()
	if names := relayNames.m[rr.app]; names != nil {
		delete(names, rr.name)
		if len(names) == 0 {
			delete(relayNames.m, rr.app)
		}
	}
}

// redactURL is u as logs and the admin API show it: scheme and host, and
// "/…" for a path, which may hold a token (Slack's and Discord's webhook
// URLs do); never userinfo or query.
func redactURL(u *url.URL) string {
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" {
		out += "/…"
	}
	return out
}

// shownURL is a message's URL as the admin API shows it: the path when it
// is the request's own (a URL without a path keeps it), "/…" when it is
// the route's, never the query.
func (rr *relayRoute) shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if rr == nil || !rr.keepURI {
		return redactURL(u)
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// Validate checks the configuration, the same way for a Caddyfile and for
// JSON.
func (h *WebhookRelay) Validate() error {
	if err := h.validate(); err != nil {
		return fmt.Errorf("webhook_relay: %w", err)
	}
	return nil
}

func (h *WebhookRelay) validate() error {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("the URL must be http:// or https://host[:port][/path], with no user, password or fragment, e.g. webhook_relay http://localhost:3000")
	}
	for i, d := range h.Retry {
		if d <= 0 {
			return fieldErrorf("retry", "retry duration %d must be positive, e.g. retry 10s 1m 5m", i+1)
		}
	}
	switch {
	case h.MaxAge < 0:
		return fieldErrorf("max_age", "max_age must be positive, e.g. 72h")
	case h.Timeout < 0:
		return fieldErrorf("timeout", "timeout must be positive, e.g. 30s")
	case h.MaxQueued < 0 || h.MaxQueued > maxSize:
		return fieldErrorf("max_queued", "max_queued must be a size from 1 byte to 1TiB, e.g. 1GiB")
	case h.MaxBody < 0 || h.MaxBody > maxSize:
		return fieldErrorf("max_body", "max_body must be a size from 1 byte to 1TiB, e.g. 25MiB")
	}
	if st := h.Store; st != nil {
		switch st.Kind {
		case "", "bbolt":
			if st.Address != "" || st.Username != "" || st.Password != "" || st.TLS || st.Prefix != "" {
				return fieldErrorf("store", "address, username, password, tls and prefix are for store redis")
			}
		case "redis":
			if st.Address == "" {
				return fieldErrorf("store", "store redis needs an address: store redis { address 127.0.0.1:6379 }")
			}
			if st.Path != "" {
				return fieldErrorf("store", "a path is for store bbolt")
			}
		default:
			return fieldErrorf("store", "store %q: write store bbolt [<path>] or store redis { address ... }", st.Kind)
		}
	}
	if h.Sign != nil {
		s, err := preset.Get(h.Sign.Scheme, preset.Options{})
		if err != nil {
			return fieldErrorf("sign", "sign: %v", err)
		}
		if vo, ok := s.Strategy.(scheme.VerifyOnly); ok {
			return fieldErrorf("sign", "sign: %s", vo.VerifyOnly())
		}
		keys := h.Sign.Secrets
		if s.Asymmetric() {
			keys = h.Sign.PrivateKeys
		}
		if len(keys) == 0 {
			return fieldErrorf("sign", "sign %s needs a secret (or, for a key pair, a private key): sign %s {file./path}", h.Sign.Scheme, h.Sign.Scheme)
		}
	}
	return nil
}

// relayRegistry holds the relays of the running configs, for the admin
// API.
type relayRegistry struct {
	sync.Mutex
	m map[*relayRoute]struct{}
}

var liveRelays = &relayRegistry{m: map[*relayRoute]struct{}{}}

func (l *relayRegistry) add(rr *relayRoute) {
	l.Lock()
	l.m[rr] = struct{}{}
	l.Unlock()
}

func (l *relayRegistry) remove(rr *relayRoute) {
	l.Lock()
	delete(l.m, rr)
	l.Unlock()
}

// routes returns the live relays by name; of two with one name (a reload
// in progress), either.
func (l *relayRegistry) routes() map[string]*relayRoute {
	l.Lock()
	defer l.Unlock()
	out := map[string]*relayRoute{}
	for rr := range l.m {
		out[rr.name] = rr
	}
	return out
}

// Interface guards
var (
	_ caddy.Provisioner           = (*WebhookRelay)(nil)
	_ caddy.Validator             = (*WebhookRelay)(nil)
	_ caddy.CleanerUpper          = (*WebhookRelay)(nil)
	_ caddyhttp.MiddlewareHandler = (*WebhookRelay)(nil)
)

// routeHandlerNames lists, in order, the handler names of the route being
// provisioned (the usual Caddyfile shape: handle { webhook_verify ...;
// webhook_relay ... }). They are read raw, as exposure does: the route's
// handlers are loaded one by one. nil when the route cannot be seen.
func routeHandlerNames(ctx caddy.Context) []string {
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv == nil {
		return nil
	}
	routes := srv.Routes
	mods := ctx.Modules()
	for i := len(mods) - 2; i >= 0; i-- {
		if sr, ok := mods[i].(*caddyhttp.Subroute); ok {
			routes = sr.Routes
			break
		}
	}
	for _, r := range routes {
		if r.HandlersRaw == nil {
			continue
		}
		var names []string
		for _, raw := range r.HandlersRaw {
			var v struct {
				Handler string `json:"handler"`
			}
			if json.Unmarshal(raw, &v) != nil {
				return nil
			}
			names = append(names, v.Handler)
		}
		return names
	}
	return nil
}

// signsBefore reports whether a webhook_sign comes before the webhook_relay
// being provisioned in its route.
func signsBefore(ctx caddy.Context, _ *WebhookRelay) bool {
	for _, n := range routeHandlerNames(ctx) {
		switch n {
		case "webhook_relay":
			return false
		case "webhook_sign":
			return true
		}
	}
	return false
}

// relayAfter reports whether a webhook_relay comes after the webhook_verify
// being provisioned in its route: the app answers later, so the sender's
// handshakes are answered here.
func relayAfter(ctx caddy.Context) bool {
	seen := false
	for _, n := range routeHandlerNames(ctx) {
		switch {
		case n == "webhook_verify":
			seen = true
		case n == "webhook_relay" && seen:
			return true
		}
	}
	return false
}

// relayBufferMemory is how many bytes of bodies one relay route holds in
// memory at once while it reads them and writes them to its store.
const relayBufferMemory = 64 << 20

var errRelayBusy = errors.New("relay busy: too many bodies being stored at once")

// budgetReader reads a body while reserving memory for it from b, and
// fails once b has none left.
type budgetReader struct {
	r        io.Reader
	b        *spool.Budget
	reserved int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if !br.b.TryReserve(int64(n)) {
			return 0, errRelayBusy
		}
		br.reserved += int64(n)
	}
	return n, err
}

// release gives the memory back once the body is in the store (or
// refused).
func (br *budgetReader) release() { br.b.Release(br.reserved) }
