package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/spool"
	"github.com/hookguard/hookguard/verifier"
)

// route is the provisioned state of one webhook_verify or webhook_sign
// handler that both kinds share: its scheme and keys, its bounds on
// bodies, and where it counts and logs. It also holds the way both read a
// body and refuse a request.
type route struct {
	handler  string // verify or sign
	name     string // the configured name, or one generated at load (routeName)
	scheme   *verifier.Scheme
	keys     []verifier.Key
	unsigned bool
	maxBody  int64
	budget   *spool.Budget // memory for this route's bodies in flight
	readTO   time.Duration
	logger   *zap.Logger
	requests *prometheus.CounterVec // curried: outcome, key
	duration prometheus.ObserverVec // curried: outcome
	verified prometheus.Observer    // duration's verified child, looked up once
	srv      *caddyhttp.Server      // the server it is in, if any
	expired  []verifier.Key         // secrets past their not_after at load: label and not_after, never the secret
	stats    *routeStats            // counts and last use kept across reloads, for the admin API
	refusals *rejectionLog          // refusal log lines, rate-limited
	// spoolErrors rate-limits the error a full temp directory gives every
	// request that needs a spool file.
	spoolErrors *rejectionLog
	refusal     string // the log message of a refused request
	publicURL   string // scheme://host[:port] the sender calls, if not the request's own
	now         func() time.Time

	// For the admin API (admin.go): when the route was loaded, and the
	// handler's own part of its status (set before publish, read only
	// after).
	loaded   time.Time
	describe func(*routeStatus)

	expiry expiryWatch // logs each secret's not_after as it passes
}

// routeConfig is what newRoute needs of a handler's configuration.
type routeConfig struct {
	handler string // verify or sign
	scheme  string
	name    string
	fields  SchemeFields
	options preset.Options
	maxBody int64
	body    BodyOptions
	refusal string
	now     func() time.Time // nil: time.Now
}

// newRoute sets up logging, metrics, the scheme and the body bounds. The
// handler's Validate has already accepted the configuration.
func newRoute(ctx caddy.Context, c routeConfig) (*route, error) {
	rt := &route{handler: c.handler, refusal: c.refusal, now: c.now}
	if rt.now == nil {
		rt.now = time.Now
	}
	rt.name = routeName(ctx, c.handler, c.scheme, c.name)
	rt.loaded = rt.now()
	rt.logger = ctx.Logger().With(zap.String("scheme", c.scheme), zap.String("route", rt.name))
	m, err := registerMetrics(ctx.GetMetricsRegistry())
	if err != nil {
		return nil, err
	}
	rt.srv, _ = ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	rt.requests = m.requests.MustCurryWith(prometheus.Labels{"handler": c.handler, "scheme": c.scheme, "route": rt.name})
	rt.duration = m.duration.MustCurryWith(prometheus.Labels{"scheme": c.scheme, "route": rt.name})
	if c.handler == "verify" {
		// Only verify is timed: a sign route gets no series.
		rt.verified = rt.duration.WithLabelValues("verified")
	}
	rt.stats = loadRouteStats(c.handler, rt.name)
	rt.refusals = newRejectionLog(rt.logger, c.refusal)
	rt.spoolErrors = newLimitedLog(rt.logger, zapcore.ErrorLevel, "cannot spool a request body to a temporary file")
	if rt.scheme, err = buildScheme(c.scheme, c.fields, c.options); err != nil {
		return nil, err
	}
	rt.maxBody = c.maxBody
	if rt.maxBody == 0 {
		// A scheme that holds the whole body to check it (Ed25519, a
		// strategy that reads the body) has a smaller default of its own.
		rt.maxBody = DefaultMaxBody
		if rt.scheme.MaxBody > 0 {
			rt.maxBody = rt.scheme.MaxBody
		}
	}
	// Each config gets its own budget: requests still in flight under the
	// config it replaces keep the old one, so a reload may briefly hold up
	// to twice the memory.
	limit := c.body.BufferMemory
	if limit == 0 {
		limit = DefaultBufferMemory
	}
	rt.budget = spool.NewBudget(limit)
	rt.readTO = time.Duration(c.body.ReadTimeout)
	if rt.readTO == 0 {
		rt.readTO = time.Duration(DefaultReadTimeout)
	}
	return rt, nil
}

// count counts one request's outcome (verified, signed, unsigned, or a
// refusal's reason) and the label of the key that matched or signed, if
// any, in the metrics and in the admin API's figures.
func (rt *route) count(outcome, key string) {
	rt.requests.WithLabelValues(outcome, key).Inc()
	rt.stats.count(outcome, key, rt.now())
}

// observe records how long verifying took, by outcome: verified (err
// nil) or the reason it was refused.
func (rt *route) observe(start time.Time, err error) {
	if err == nil {
		rt.verified.Observe(time.Since(start).Seconds())
		return
	}
	rt.duration.WithLabelValues(reasonOf(err)).Observe(time.Since(start).Seconds())
}

// logLoaded writes the route's one INFO line of a config load: what it
// checks or signs with, and its bounds. extra adds the handler's own.
func (rt *route) logLoaded(extra ...zap.Field) {
	secrets := make([]string, 0, len(rt.keys))
	for _, k := range rt.keys {
		if k.NotAfter.IsZero() {
			secrets = append(secrets, k.Label)
		} else {
			secrets = append(secrets, k.Label+" until "+k.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	fields := []zap.Field{
		zap.String("handler", "webhook_"+rt.handler),
		zap.Strings("secrets", secrets),
		zap.Int64("max_body", rt.maxBody),
		zap.Int64("buffer_memory", rt.budget.Limit()),
		zap.Duration("read_timeout", rt.readTO),
		zap.Bool("unsigned", rt.unsigned),
	}
	if len(rt.expired) > 0 {
		expired := make([]string, len(rt.expired))
		for i, k := range rt.expired {
			expired[i] = k.Label
		}
		fields = append(fields, zap.Strings("expired", expired))
	}
	rt.logger.Info("webhook route loaded", append(fields, extra...)...)
}

// msgExpired is the warning for a secret past its not_after, at load and
// when it passes while the config runs.
const msgExpired = "secret has expired and is no longer accepted"

// logExpired warns, at every load, of secrets past their not_after.
func (rt *route) logExpired(keys []verifier.Key) {
	rt.expired = keys
	for _, k := range keys {
		rt.logger.Warn(msgExpired, zap.String("key", k.Label), zap.Time("not_after", k.NotAfter))
	}
}

// expiryWatch holds a timer per secret whose not_after is still to come,
// so that its passing is logged when it happens, not at the next load.
type expiryWatch struct {
	mu     sync.Mutex
	timers []*time.Timer
	closed bool
}

// watchExpiry logs, once for each of rt.keys whose not_after has not yet
// passed, the same warning as a load does for an expired secret, at the
// moment it passes while this config runs. The timers stop when the
// config is unloaded (close); a config loaded after the moment warns at
// its load instead.
func (rt *route) watchExpiry() {
	w := &rt.expiry
	w.mu.Lock()
	defer w.mu.Unlock()
	now := rt.now()
	for _, k := range rt.keys {
		if k.NotAfter.IsZero() {
			continue
		}
		label, notAfter := k.Label, k.NotAfter
		w.timers = append(w.timers, time.AfterFunc(notAfter.Sub(now), func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if !w.closed {
				rt.logger.Warn(msgExpired, zap.String("key", label), zap.Time("not_after", notAfter))
			}
		}))
	}
}

// stop stops the timers: the config is being unloaded.
func (w *expiryWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, t := range w.timers {
		t.Stop()
	}
	w.timers = nil
}

// body reads the request body (bounded by max_body, 413 up front when
// Content-Length says so; by read_timeout, 408) while feeding it to w. It
// is held in memory within the route's buffer_memory and spooled to a
// temporary file beyond it.
func (rt *route) body(w http.ResponseWriter, r *http.Request, into io.Writer) (*spool.Body, error) {
	if r.ContentLength > rt.maxBody {
		return nil, rt.refuseUnread(w, r, http.StatusRequestEntityTooLarge, errBodyTooLarge)
	}
	// Through Caddy's read idle timeout wrapper (which takes a handler's
	// deadline as a ceiling on its own idle deadline) or on the connection
	// itself. A writer that cannot set one (a test recorder) still has the
	// server's own timeouts.
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(rt.readTO)) == nil
	body, err := readBody(w, r, rt.maxBody, rt.budget, into)
	if deadline && (err == nil || !isTimeout(err)) {
		// The body is read: the deadline must not outlive it. After a
		// timeout it stays, and the connection is closed anyway.
		_ = rc.SetReadDeadline(time.Time{}) // it was set above, so it can be cleared
	}
	if err == nil {
		if body != nil && body.Spooled() {
			if ce := rt.logger.Check(zapcore.DebugLevel, "body spooled to a temporary file: buffer_memory in use"); ce != nil {
				ce.Write(zap.Int64("size", body.Len()), zap.Int64("buffer_memory", rt.budget.Limit()))
			}
		}
		return body, nil
	}
	var he caddyhttp.HandlerError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, rt.refuseUnread(w, r, http.StatusRequestEntityTooLarge, err)
	case isTimeout(err):
		return nil, rt.refuseUnread(w, r, http.StatusRequestTimeout, errReadTimeout)
	case errors.Is(err, spool.ErrSpool):
		if ce := rt.spoolErrors.check("spool_error"); ce != nil {
			ce.Write(zap.Error(err))
		}
		return nil, rt.refuseUnread(w, r, http.StatusServiceUnavailable, err)
	case errors.As(err, &he): // another handler's error from reading the body
		// Counted and logged like every refusal, so that each request
		// has its one outcome in the metrics (the verify duration of
		// this request is observed under the same reason); the error
		// goes on as it is.
		closeAfterReply(w, r)
		_ = rt.refuse(r, he.StatusCode, err)
		return nil, err
	}
	// The client went away mid-body, or sent a malformed one: counted
	// and logged as a refusal too (outcome "error"), not passed over.
	closeAfterReply(w, r)
	return nil, rt.refuse(r, http.StatusBadRequest, fmt.Errorf("reading webhook body: %w", err))
}

// refuseUnread refuses a request whose body has not been read to the end,
// and closes the connection after the answer rather than let the server
// read the rest of a body no one wants.
func (rt *route) refuseUnread(w http.ResponseWriter, r *http.Request, status int, err error) error {
	closeAfterReply(w, r)
	return rt.refuse(r, status, err)
}

// closeAfterReply asks net/http to close an HTTP/1 connection after the
// response instead of draining the unread request body first. Since Caddy
// v2.11.9 wraps r.Body in place (read idle timeouts), net/http no longer
// sees its own 100-continue reader on a refused request and drains the
// body without ever sending 100 Continue: a client that waits for it, as
// it should, then hangs until its own timeout. An explicit Connection:
// close skips the drain. HTTP/2 and HTTP/3 reset the stream instead (and
// would take Connection: close as a GOAWAY for every stream).
func closeAfterReply(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// refuse counts and logs a refused request and returns the error Caddy
// answers it with. Nothing here may hold a secret or a computed signature:
// err texts are built to be safe.
func (rt *route) refuse(r *http.Request, status int, err error) error {
	reason := reasonOf(err)
	key := keyOf(err)
	rt.count(reason, key)
	if ce := rt.refusals.check(reason); ce != nil {
		fields := []zap.Field{
			zap.Int("status", status),
			zap.String("reason", reason),
			zap.String("detail", err.Error()),
			zap.String("remote_ip", remoteIP(r)),
			zap.String("host", clip(r.Host)),
			zap.String("path", clip(r.URL.Path)),
		}
		if key != "" {
			fields = append(fields, zap.String("key", key))
		}
		if id := rt.deliveryID(r); id != "" {
			fields = append(fields, zap.String("id", id))
		}
		ce.Write(fields...)
	}
	return caddyhttp.Error(status, err)
}

// keyOf is the label of the secret a refusal is about, if any: the
// expired secret a signature matched (expired_secret). Counted under it,
// a sender still signing with a retired secret shows in the metrics by
// that secret's label, as a verified request does by the one it matched.
func keyOf(err error) string {
	var ve *verifier.Error
	if errors.As(err, &ve) {
		return ve.Key
	}
	return ""
}

func reasonOf(err error) string {
	var ve *verifier.Error
	if errors.As(err, &ve) {
		return string(ve.Reason)
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		return "body_too_large"
	case errors.Is(err, errReadTimeout):
		return "read_timeout"
	case errors.Is(err, spool.ErrSpool):
		return "spool_error"
	case errors.Is(err, errInFlight):
		return "in_flight"
	case errors.Is(err, errReplayUnavailable):
		return "replay_unavailable"
	}
	return "error"
}

// deliveryID is the id header as sent, cut short: it is the sender's
// claim, logged to trace a delivery, and must not flood the log.
func (rt *route) deliveryID(r *http.Request) string {
	for _, set := range rt.scheme.HeaderSets {
		if set.ID == "" {
			continue
		}
		if id := r.Header.Get(set.ID); id != "" {
			if len(id) > 128 {
				id = id[:128]
			}
			return id
		}
	}
	return ""
}

// headerNames lists the headers of every header set of s (and of its
// fallback): signature always, timestamp and id if withMeta.
func headerNames(s *verifier.Scheme, withMeta bool) []string {
	var out []string
	for ; s != nil; s = s.Fallback {
		for _, set := range s.HeaderSets {
			out = append(out, set.Signature)
			if withMeta && set.Timestamp != "" {
				out = append(out, set.Timestamp)
			}
			if withMeta && set.ID != "" {
				out = append(out, set.ID)
			}
		}
	}
	return out
}

func remoteIP(r *http.Request) string {
	if vars, ok := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any); ok {
		if ip, ok := vars[caddyhttp.ClientIPVarKey].(string); ok {
			return ip
		}
	}
	return r.RemoteAddr
}

// maxLogged bounds a request's own text (host, path) in a log line: a
// refusal's line stays short however long the client made them.
const maxLogged = 256

// clip cuts s to maxLogged bytes, marked as cut.
func clip(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return s[:maxLogged] + "…(cut)"
}

// request is what the route's scheme may sign of r besides the body: its
// method, headers and, where the scheme needs it, the URL the sender
// called.
func (rt *route) request(r *http.Request) scheme.Request {
	req := scheme.Request{Method: r.Method, Header: r.Header}
	if s := rt.scheme; s.UsesURL() || s.Strategy != nil || s.Handshake != nil {
		req.URL = rt.requestURL(r)
	}
	return req
}

// requestURL rebuilds the URL the sender called: the scheme from TLS and
// the Host header, or public_url's scheme and host for a route behind
// another proxy or a tunnel; and the request-target as it arrived, before
// any rewrite changed it.
func (rt *route) requestURL(r *http.Request) string {
	uri := r.RequestURI
	if or, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && or.RequestURI != "" {
		uri = or.RequestURI
	}
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if !strings.HasPrefix(uri, "/") {
		// An absolute-form target ("POST https://host/path"): only its
		// path and query, since scheme and host come from below. Any
		// other form ("t:2981/u1/hook", "*") is no URL a sender calls:
		// glued after the Host header it could spell another route's
		// signed URL, so it is not rebuilt at all, and the request fails.
		u, err := url.Parse(uri)
		if err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "http" && u.Scheme != "https") {
			return ""
		}
		uri = u.RequestURI()
	}
	base := rt.publicURL
	if base == "" {
		sch := "http"
		if r.TLS != nil {
			sch = "https"
		}
		base = sch + "://" + r.Host
	}
	return base + uri
}
