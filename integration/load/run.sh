#!/usr/bin/env bash
# Load test: webhook_verify + reverse_proxy and webhook_sign + reverse_proxy
# against plain reverse_proxy, in the same run, on 127.0.0.1 only. Bounded:
# each wrk run lasts DURATION and then the script stops everything it started.
#
#   bash integration/load/run.sh            # needs wrk (apt-get install wrk) and openssl
#   DURATION=10s SIZES="1024 65536" bash integration/load/run.sh
#
# Prints requests/s per route and the ratio to plain reverse_proxy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${DURATION:-5s}
SIZES=${SIZES:-"1024 65536 1048576"}
CONNS=${CONNS:-16}
SECRET='kX3vQ9mR2pL8nT5wY7zB4cF6'
WORK=$(mktemp -d)
BIN=$WORK/hookguard
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
go build -o "$BIN" ./cmd/hookguard

cat >"$WORK/Caddyfile" <<CADDY
{
	admin off
	auto_https off
	log default {
		level ERROR
	}
}
http://127.0.0.1:9301 {
	reverse_proxy 127.0.0.1:9399
}
http://127.0.0.1:9302 {
	webhook_verify github "$SECRET"
	reverse_proxy 127.0.0.1:9399
}
http://127.0.0.1:9303 {
	webhook_sign standard "whsec_cwduU7NgUiZHj6Q6ZMq43AEuo9OePyYNsLblBZxopnY="
	reverse_proxy 127.0.0.1:9399
}
http://127.0.0.1:9399 {
	respond 204
}
CADDY
"$BIN" run --config "$WORK/Caddyfile" >"$WORK/caddy.log" 2>&1 &
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:9399/ && break; sleep 0.2; done

rps() { # rps URL LUA
  wrk -t2 -c"$CONNS" -d"$DURATION" -s "$2" "$1" | awk '/Requests\/sec/ {print $2}'
}

printf '%-9s %14s %14s %14s %9s %9s\n' size plain_rps verify_rps sign_rps verify/x sign/x
for size in $SIZES; do
  head -c "$size" /dev/urandom | base64 -w0 >"$WORK/b64"
  head -c "$size" "$WORK/b64" >"$WORK/body"
  sig=$(openssl dgst -sha256 -hmac "$SECRET" <"$WORK/body" | sed 's/.*= //')
  cat >"$WORK/req.lua" <<LUA
local f = io.open("$WORK/body", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "sha256=$sig"
LUA
  # A signed request must pass: check once before measuring.
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: sha256=$sig" --data-binary @"$WORK/body" http://127.0.0.1:9302/)
  [[ $code == 204 ]] || { echo "verify route answered $code"; cat "$WORK/caddy.log"; exit 1; }
  plain=$(rps http://127.0.0.1:9301/ "$WORK/req.lua")
  verify=$(rps http://127.0.0.1:9302/ "$WORK/req.lua")
  sign=$(rps http://127.0.0.1:9303/ "$WORK/req.lua")
  printf '%-9s %14s %14s %14s %9.2f %9.2f\n' "$size" "$plain" "$verify" "$sign" \
    "$(echo "$verify / $plain" | bc -l)" "$(echo "$sign / $plain" | bc -l)"
done
