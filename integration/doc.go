// Package integration holds hookguard's end-to-end tests: a real Caddy,
// started in-process by caddytest, loads a real Caddyfile whose routes put
// webhook_verify in front of reverse_proxy to httptest upstreams that record
// exactly what reached them (method, path, headers, body length and
// SHA-256).
//
// The main Caddyfile (startGateway) has a route per preset and per generic
// scheme (/github, /stripe, ..., /hmac, /token), all with max_body 1536KiB,
// plus /github-other, /rotate, /strip, /dev (insecure_unsigned) and
// /metrics, and a handle_errors block that shapes every rejection.
//
// Caddy is a process-wide singleton (admin API on localhost:2999, HTTP on
// :9080), so every caddytest test lives in this one package and none runs in
// parallel. The tests that start Caddy are skipped under -short; run them
// with
//
//	go test -count=1 ./integration/
//
// integration/ is a module of its own (github.com/hookguard/hookguard/integration,
// hookguard itself replaced by the checkout above it), so that the senders'
// official Go libraries these tests and those of integration/interop check
// against are not requirements of hookguard's go.mod. The go.work at the
// repository root makes the command above work from there; `./...` does not
// reach into this module, so the whole suite is
//
//	go test -count=1 ./... ./integration/...
package integration
