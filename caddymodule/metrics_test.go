package caddymodule

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsOncePerProcess: every config's registry (a new one at each
// load) gets the same collectors, so a count made under one config is
// there under the next; registering them again in one registry (every
// route of a config does) is fine; another collector of the same name is
// an error, not silently replaced.
func TestMetricsOncePerProcess(t *testing.T) {
	old, next := prometheus.NewPedanticRegistry(), prometheus.NewPedanticRegistry()
	a, err := registerMetrics(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registerMetrics(old); err != nil {
		t.Fatalf("registering twice in one registry: %v", err)
	}
	const route = "TestMetricsOncePerProcess"                                // the collectors are the process's: a series of its own
	a.requests.DeleteLabelValues("verify", "github", route, "verified", "k") // from an earlier -count
	a.requests.WithLabelValues("verify", "github", route, "verified", "k").Add(3)
	b, err := registerMetrics(next)
	if err != nil {
		t.Fatal(err)
	}
	if a.requests != b.requests || a.duration != b.duration {
		t.Fatal("a new registry got new collectors: their values would start again at a reload")
	}
	b.requests.WithLabelValues("verify", "github", route, "verified", "k").Inc()
	if got := gathered(t, next, "caddy_webhook_requests_total", route); got != 4 {
		t.Errorf("the next config's registry serves %v for the route, want 4 (3 before the reload, 1 after)", got)
	}

	// Another collector under the name: one of other labels or help
	// text, and one that describes itself exactly as ours (another copy
	// of the module, say) but is not ours: ours would not be served.
	other := prometheus.NewPedanticRegistry()
	other.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caddy_webhook_requests_total", Help: "someone else's"},
		[]string{"handler", "scheme", "route", "outcome", "key"}))
	if _, err := registerMetrics(other); err == nil {
		t.Error("registered over another collector of the same name")
	}
	lookalike := prometheus.NewPedanticRegistry()
	lookalike.MustRegister(impostor{b.requests})
	if _, err := registerMetrics(lookalike); err == nil {
		t.Error("registered over another collector that describes itself as ours")
	}
}

// impostor describes itself as the collector it wraps, and is another.
type impostor struct{ prometheus.Collector }

// gathered is the value of the counter name for route in reg.
func gathered(t *testing.T, reg prometheus.Gatherer, name, route string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == route {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s series for route %s", name, route)
	return 0
}
