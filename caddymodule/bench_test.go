package caddymodule

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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
