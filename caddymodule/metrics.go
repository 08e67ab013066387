package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are hookguard's collectors in Caddy's registry. Labels are
// bounded: handler (verify or sign), scheme, the route's configured name, outcome (verified, unsigned, or a failure reason) and the
// label of the matching key, which is configuration, never request data.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "webhook", Name: "requests_total",
			Help: "Webhook requests handled by webhook_verify and webhook_sign, by handler, scheme, outcome and key used.",
		}, []string{"handler", "scheme", "route", "outcome", "key"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "caddy", Subsystem: "webhook", Name: "verify_duration_seconds",
			Help:    "Time webhook_verify spent reading and verifying a request, by scheme.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
		}, []string{"scheme", "route"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the collector already there: every
// route's handler provisions, and a reload provisions again.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
