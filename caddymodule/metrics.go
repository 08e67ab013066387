package caddymodule

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are hookguard's collectors. They are made once per process and
// registered with the registry of every config loaded, as Caddy's own
// reverse_proxy metrics are, so their values carry over a reload (the
// registry is new at each load; the collectors are not).
//
// Labels are bounded, configuration, never request data:
//   - handler: verify or sign
//   - scheme: the scheme's name (github, stripe, hmac, ...)
//   - route: the route's name, or the one generated for it (routeName)
//   - outcome: verified, signed, unsigned, duplicate, or the reason a
//     request was refused (wrong_signature, stale_timestamp, ...)
//   - key: the label of the secret that matched or signed ("" when none
//     did); for expired_secret, the expired secret the signature matched
var metrics struct {
	once     sync.Once
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

type collectors struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// registerMetrics makes the collectors the first time and adds them to
// reg (nil: only makes them).
func registerMetrics(reg *prometheus.Registry) (collectors, error) {
	metrics.once.Do(func() {
		metrics.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "webhook", Name: "requests_total",
			Help: "Webhook requests handled by webhook_verify and webhook_sign, by handler (verify, sign), scheme, route (its name), " +
				"outcome (verified, signed, unsigned, duplicate, handshake, or the reason for a refusal) and key (the label of the secret that matched or signed).",
		}, []string{"handler", "scheme", "route", "outcome", "key"})
		metrics.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "caddy", Subsystem: "webhook", Name: "verify_duration_seconds",
			Help: "Time webhook_verify spent reading and verifying a request's body, by scheme, route (its name) and " +
				"outcome (verified, or the reason for a refusal).",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
		}, []string{"scheme", "route", "outcome"})
	})
	out := collectors{requests: metrics.requests, duration: metrics.duration}
	if reg == nil {
		return out, nil
	}
	for _, c := range []prometheus.Collector{metrics.requests, metrics.duration} {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		if err == nil || errors.As(err, &are) && are.ExistingCollector == c {
			continue // every route of a config registers them
		}
		return out, fmt.Errorf("registering metrics: %w", err)
	}
	return out, nil
}
