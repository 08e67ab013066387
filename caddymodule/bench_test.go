package caddymodule

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

// BenchmarkServeHTTP measures webhook_verify and webhook_sign on the hot
// path (read, hash, restore) against a handler that only drains the body,
// as reverse_proxy would, for webhook-sized bodies. Compare the three in
// one run: `go test -run '^$' -bench ServeHTTP -benchmem ./caddymodule`.
func BenchmarkServeHTTP(b *testing.B) {
	secret := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: secret}}}
	s := &WebhookSign{Scheme: "standard", Secrets: []Secret{{Value: strongA}}}
	ctx, cancel := newTestContext()
	defer cancel()
	if err := v.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	if err := s.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	// Read to the end and close, as reverse_proxy's transport does.
	drain := handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return err
	})
	plain := handlerFunc(func(w http.ResponseWriter, r *http.Request) error { return drain(w, r) })
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		h := signedGitHub(b, secret, body)
		for _, c := range []struct {
			name string
			h    func(http.ResponseWriter, *http.Request) error
		}{
			{"plain", func(w http.ResponseWriter, r *http.Request) error { return plain(w, r) }},
			{"verify", func(w http.ResponseWriter, r *http.Request) error { return v.ServeHTTP(w, r, drain) }},
			{"sign", func(w http.ResponseWriter, r *http.Request) error { return s.ServeHTTP(w, r, drain) }},
		} {
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					r, _ := request(bytes.NewReader(body), h)
					if err := c.h(httptest.NewRecorder(), r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkServeHTTPExpiredSecret measures webhook_verify on a route that
// still lists a secret past its not_after (label "old"), as after a
// rotation: a webhook signed with the current secret (verified), with a
// secret the route never had (wrong_signature) and with the expired one
// (expired_secret). The expired secret is only tried once no current one
// matched, so verified costs what it costs on a route without it:
// `go test -run '^$' -bench ServeHTTPExpiredSecret -benchmem ./caddymodule`.
func BenchmarkServeHTTPExpiredSecret(b *testing.B) {
	current, old, stranger := "kX3vQ9mR2pL8nT5wY7zB4cF6", "pQ7wE3rT9yU1iO5aS2dF8gH4", "mN4bV8cX2zL6kJ9hG3fD7sA1"
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{
		{Value: current, Label: "current"},
		{Value: old, Label: "old", NotAfter: "2020-01-01T00:00:00Z"},
	}}
	ctx, cancel := newTestContext()
	defer cancel()
	if err := v.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	// Refusals are logged at INFO (rate-limited): not into the results.
	v.route.refusals = newRejectionLog(zap.NewNop(), "webhook rejected")
	drain := handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return err
	})
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		for _, c := range []struct {
			name, secret string
			ok           bool
		}{{"verified", current, true}, {"wrong", stranger, false}, {"expired", old, false}} {
			h := signedGitHub(b, c.secret, body)
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					r, _ := request(bytes.NewReader(body), h)
					if err := v.ServeHTTP(httptest.NewRecorder(), r, drain); (err == nil) != c.ok {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
