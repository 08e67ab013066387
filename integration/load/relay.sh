#!/usr/bin/env bash
# Load test of webhook_relay (issue 11): accept throughput and latency with
# CONNS concurrent senders and SIZE-byte bodies, for the bbolt store (every
# accept fsynced before the 202) and for Redis (every accept acknowledged
# by a redis-server running appendonly with appendfsync always, so it too
# is on disk before the 202), and delivery throughput to a fast local
# receiver (Caddy's respond 204). 127.0.0.1 only; each wrk run lasts
# DURATION, then the script waits (at most DRAIN_MAX seconds) for the
# queue to empty and stops everything it started.
#
# Rows bbolt and redis accept while the worker delivers (the receiver
# answers at once); rows bbolt-acc and redis-acc measure the accept alone:
# their receiver (a python3 socket that never answers) holds the route's 16
# workers in one attempt each, so no delivery writes compete with accepts.
#
#   bash integration/load/relay.sh           # needs wrk, redis-server, jq, curl
#   DURATION=20s CONNS=32 SIZE=4096 REDIS_FSYNC=everysec bash integration/load/relay.sh
#
# Ports: admin 9317, relays 9311 (bbolt), 9312 (redis), 9313 (bbolt-acc),
# 9314 (redis-acc), receivers 9319 (respond 204) and 9316 (never answers),
# redis 9318. Per store it prints:
#   accepted_rps  202s per second during the wrk run (non-202 answers are counted apart)
#   p50_ms p99_ms wrk's latency percentiles of the accept (the 202 comes after the sync)
#   backlog       messages still queued when wrk stopped
#   drain_s       seconds from then until the queue was empty
#   delivered_rps accepted / (DURATION + drain_s): end-to-end delivery rate
# Targets (issue 11): bbolt >= 1000 accepted/s with p99 < 50 ms; Redis within 2x.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-4}
SIZE=${SIZE:-4096}
DRAIN_MAX=${DRAIN_MAX:-120}
REDIS_FSYNC=${REDIS_FSYNC:-always}
ADMIN=127.0.0.1:9317
WORK=$(mktemp -d)
BIN=$WORK/hookguard
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

for tool in wrk redis-server redis-cli jq curl python3 bc; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install wrk redis-server jq curl python3 bc)"; exit 1; }
done
go build -o "$BIN" ./cmd/hookguard

python3 -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9316))
s.listen(1024)
time.sleep(3600)' &
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port 9318 --save '' --appendonly yes --appendfsync "$REDIS_FSYNC" \
  --dir "$WORK/redis" >"$WORK/redis.log" 2>&1 &
for _ in $(seq 50); do redis-cli -p 9318 ping >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$WORK/Caddyfile" <<CADDY
{
	admin $ADMIN
	auto_https off
	persist_config off
	log default {
		level ERROR
	}
}
http://127.0.0.1:9311 {
	bind 127.0.0.1
	webhook_relay http://127.0.0.1:9319 {
		name bbolt
		store bbolt $WORK/relay.db
	}
}
http://127.0.0.1:9312 {
	bind 127.0.0.1
	webhook_relay http://127.0.0.1:9319 {
		name redis
		store redis {
			address 127.0.0.1:9318
		}
	}
}
http://127.0.0.1:9313 {
	bind 127.0.0.1
	webhook_relay http://127.0.0.1:9316 {
		name bbolt-acc
		timeout 1h
		store bbolt $WORK/acc.db
	}
}
http://127.0.0.1:9314 {
	bind 127.0.0.1
	webhook_relay http://127.0.0.1:9316 {
		name redis-acc
		timeout 1h
		store redis {
			address 127.0.0.1:9318
		}
	}
}
http://127.0.0.1:9319 {
	bind 127.0.0.1
	respond 204
}
CADDY
"$BIN" run --config "$WORK/Caddyfile" >"$WORK/caddy.log" 2>&1 &
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9319/ && break; sleep 0.1; done
curl -s -o /dev/null http://127.0.0.1:9319/ || { echo "hookguard did not start:"; cat "$WORK/caddy.log"; exit 1; }

head -c "$SIZE" /dev/urandom | base64 -w0 | head -c "$SIZE" >"$WORK/body"
cat >"$WORK/req.lua" <<LUA
local f = io.open("$WORK/body", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

queued() { # queued ROUTE: messages the route holds now
  curl -s "http://$ADMIN/webhooks/relay/" | jq -r --arg r "$1" '.relays[] | select(.name == $r) | .relay.queued'
}

secs() { # DURATION as seconds (wrk's 10s, 1m forms)
  case $1 in *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}

printf '%-9s %12s %8s %8s %9s %8s %8s %14s %s\n' store accepted_rps p50_ms p99_ms accepted backlog drain_s delivered_rps non2xx
declare -A PORT=([bbolt]=9311 [redis]=9312 [bbolt-acc]=9313 [redis-acc]=9314)
for store in ${STORES:-bbolt redis bbolt-acc redis-acc}; do
  port=${PORT[$store]}
  code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$WORK/body" "http://127.0.0.1:$port/check")
  [[ $code == 202 ]] || { echo "$store relay answered $code"; cat "$WORK/caddy.log"; exit 1; }
  if [[ $store != *-acc ]]; then
    for _ in $(seq 100); do [[ $(queued "$store") == 0 ]] && break; sleep 0.05; done
  fi
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/req.lua" "http://127.0.0.1:$port/hook")
  end=$(date +%s.%N)
  backlog=$(queued "$store")
  drain=nan
  if [[ $store != *-acc ]]; then
    while [[ $(queued "$store") != 0 ]]; do
      if (($(echo "$(date +%s.%N) - $end > $DRAIN_MAX" | bc))); then echo "$store: queue not drained in ${DRAIN_MAX}s"; break; fi
      sleep 0.05
    done
    drain=$(echo "$(date +%s.%N) - $end" | bc -l)
  fi
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  non2xx=${non2xx:-0}
  ok=$((total - non2xx))
  to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
  dur=$(secs "$DURATION")
  delivered=nan
  [[ $drain != nan ]] && delivered=$(echo "$ok / ($dur + $drain)" | bc -l)
  printf '%-9s %12.1f %8s %8s %9d %8s %8.2f %14.1f %s\n' "$store" "$(echo "$ok / $dur" | bc -l)" "$p50" "$p99" "$ok" "$backlog" "$drain" \
    "$delivered" "$non2xx"
done
dead=$(curl -s "http://$ADMIN/webhooks/relay/dead" | jq '.dead | length')
echo "dead letters: $dead (want 0); redis appendfsync $REDIS_FSYNC; $CONNS connections, $SIZE-byte bodies, $DURATION per store"
