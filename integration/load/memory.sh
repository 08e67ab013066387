#!/usr/bin/env bash
# Memory under a burst of large bodies (issue 7, finding 6): builds
# cmd/hookguard, runs it with a webhook_verify route in front of an upstream
# that holds every request until all have arrived, fires CLIENTS concurrent
# validly signed MIB-MiB POSTs, and prints the process's peak resident
# memory (VmHWM). Linux only (/proc); uses ports 2996 and 9380.
#
#   bash integration/load/memory.sh                 # 48 x 8 MiB
#   CLIENTS=96 MIB=4 bash integration/load/memory.sh
#
# It is the integration test TestMemoryBurst, which also fails above
# LIMIT_MIB (default 256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HOOKGUARD_BURST_CLIENTS=${CLIENTS:-48} HOOKGUARD_BURST_MIB=${MIB:-8} HOOKGUARD_BURST_LIMIT_MIB=${LIMIT_MIB:-256} \
  flock /tmp/caddytest.lock go test -count=1 -run '^TestMemoryBurst$' ./integration/ -v | grep -E '^(peak_rss_mib|--- |ok|FAIL)|burst_test.go'
