package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookguard/hookguard/spool"
	"github.com/hookguard/hookguard/verifier"
)

// core is the provisioned state webhook_verify and webhook_sign share, and
// the way both read a body and refuse a request.
type core struct {
	scheme   *verifier.Scheme
	keys     []verifier.Key
	unsigned bool
	maxBody  int64
	budget   *spool.Budget // memory for this route's bodies in flight
	readTO   time.Duration
	logger   *zap.Logger
	requests *prometheus.CounterVec // curried: outcome, key
	refusal  string                 // the log message of a refused request
	now      func() time.Time
}

// provision sets up logging, metrics and the scheme. handler is "verify" or
// "sign"; scheme and route label every log line and metric.
func (c *core) provision(ctx caddy.Context, handler, scheme, route string, g SchemeFields, o verifier.Options, maxBody int64) (*metrics, error) {
	c.logger = ctx.Logger().With(zap.String("scheme", scheme), zap.String("route", route))
	m, err := newMetrics(ctx.GetMetricsRegistry())
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	c.requests = m.requests.MustCurryWith(prometheus.Labels{"handler": handler, "scheme": scheme, "route": route})
	if c.now == nil {
		c.now = time.Now
	}
	c.maxBody = maxBody
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBody
	}
	if c.scheme, err = buildScheme(scheme, g, o); err != nil {
		return nil, err
	}
	return m, nil
}

// provisionBody sets up the body options. Each config gets its own budget:
// requests still in flight under the config it replaces keep the old one,
// so a reload may briefly hold up to twice the memory.
func (c *core) provisionBody(o BodyOptions) {
	limit := o.BufferMemory
	if limit == 0 {
		limit = DefaultBufferMemory
	}
	c.budget = spool.NewBudget(limit)
	c.readTO = time.Duration(o.ReadTimeout)
	if c.readTO == 0 {
		c.readTO = time.Duration(DefaultReadTimeout)
	}
}

// logExpired warns, at every load, of secrets past their not_after.
func (c *core) logExpired(labels []string) {
	for _, k := range labels {
		c.logger.Warn("secret has expired and is no longer accepted", zap.String("key", k))
	}
}

// body reads the request body (bounded by max_body, 413 up front when
// Content-Length says so; by read_timeout, 408) while feeding it to w. It
// is held in memory within the route's buffer_memory and spooled to a
// temporary file beyond it.
func (c *core) body(w http.ResponseWriter, r *http.Request, into io.Writer) (*spool.Body, error) {
	if r.ContentLength > c.maxBody {
		return nil, c.refuseUnread(w, r, http.StatusRequestEntityTooLarge, errBodyTooLarge)
	}
	// Through Caddy's read idle timeout wrapper (which takes a handler's
	// deadline as a ceiling on its own idle deadline) or on the connection
	// itself. A writer that cannot set one (a test recorder) still has the
	// server's own timeouts.
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(c.readTO)) == nil
	body, err := readBody(w, r, c.maxBody, c.budget, into)
	if deadline && (err == nil || !isTimeout(err)) {
		// The body is read: the deadline must not outlive it. After a
		// timeout it stays, and the connection is closed anyway.
		_ = rc.SetReadDeadline(time.Time{}) // it was set above, so it can be cleared
	}
	if err == nil {
		if body != nil && body.Spooled() {
			if ce := c.logger.Check(zapcore.DebugLevel, "body spooled to a temporary file: buffer_memory in use"); ce != nil {
				ce.Write(zap.Int64("size", body.Len()), zap.Int64("buffer_memory", c.budget.Limit()))
			}
		}
		return body, nil
	}
	var he caddyhttp.HandlerError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, c.refuseUnread(w, r, http.StatusRequestEntityTooLarge, err)
	case isTimeout(err):
		return nil, c.refuseUnread(w, r, http.StatusRequestTimeout, errReadTimeout)
	case errors.Is(err, spool.ErrSpool):
		c.logger.Error("cannot spool a request body to a temporary file", zap.Error(err))
		return nil, c.refuseUnread(w, r, http.StatusServiceUnavailable, err)
	case errors.As(err, &he): // e.g. request_body's own limit
		closeAfterReply(w, r)
		return nil, err
	}
	closeAfterReply(w, r)
	return nil, caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading webhook body: %w", err))
}

// refuseUnread refuses a request whose body has not been read to the end,
// and closes the connection after the answer rather than let the server
// read the rest of a body no one wants.
func (c *core) refuseUnread(w http.ResponseWriter, r *http.Request, status int, err error) error {
	closeAfterReply(w, r)
	return c.refuse(r, status, err)
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
func (c *core) refuse(r *http.Request, status int, err error) error {
	reason := reasonOf(err)
	c.requests.WithLabelValues(reason, "").Inc()
	if ce := c.logger.Check(zapcore.InfoLevel, c.refusal); ce != nil {
		fields := []zap.Field{
			zap.Int("status", status),
			zap.String("reason", reason),
			zap.String("detail", err.Error()),
			zap.String("remote_ip", remoteIP(r)),
			zap.String("host", r.Host),
			zap.String("path", r.URL.Path),
		}
		if id := c.deliveryID(r); id != "" {
			fields = append(fields, zap.String("id", id))
		}
		ce.Write(fields...)
	}
	return caddyhttp.Error(status, err)
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
func (c *core) deliveryID(r *http.Request) string {
	for _, set := range c.scheme.HeaderSets {
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
