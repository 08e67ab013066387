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

// relayCollectors are webhook_relay's, made once per process like the
// others. Labels: route (the relay's name), outcome (delivered, retried,
// dead; for refusals full or store_error).
type relayCollectors struct {
	accepted, refused, attempts *prometheus.CounterVec
	attemptDuration             *prometheus.HistogramVec
	depth, oldest               *prometheus.GaugeVec
}

var relayMetricsOnce struct {
	sync.Once
	c *relayCollectors
}

func registerRelayMetrics(reg *prometheus.Registry) (*relayCollectors, error) {
	relayMetricsOnce.Do(func() {
		relayMetricsOnce.c = &relayCollectors{
			accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_accepted_total",
				Help: "Webhooks webhook_relay wrote durably and answered 202, by route.",
			}, []string{"route"}),
			refused: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_refused_total",
				Help: "Webhooks webhook_relay answered 503 (the sender retries), by route and reason (full: max_queued reached; busy: too many bodies in memory; store_error).",
			}, []string{"route", "reason"}),
			attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_attempts_total",
				Help: "Delivery attempts of webhook_relay, by route and outcome (delivered, retried, dead).",
			}, []string{"route", "outcome"}),
			attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_attempt_duration_seconds",
				Help:    "Time a webhook_relay delivery attempt took, by route and outcome.",
				Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
			}, []string{"route", "outcome"}),
			depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_queue_depth",
				Help: "Messages webhook_relay holds to deliver (queued or in flight), by route.",
			}, []string{"route"}),
			oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Namespace: "caddy", Subsystem: "webhook", Name: "relay_oldest_age_seconds",
				Help: "Age of the oldest message webhook_relay still holds to deliver, by route (0: none).",
			}, []string{"route"}),
		}
	})
	c := relayMetricsOnce.c
	if reg == nil {
		return c, nil
	}
	for _, col := range []prometheus.Collector{c.accepted, c.refused, c.attempts, c.attemptDuration, c.depth, c.oldest} {
		err := reg.Register(col)
		var are prometheus.AlreadyRegisteredError
		if err == nil || errors.As(err, &are) && are.ExistingCollector == col {
			continue
		}
		return nil, fmt.Errorf("registering relay metrics: %w", err)
	}
	return c, nil
}
