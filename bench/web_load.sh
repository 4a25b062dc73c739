#!/usr/bin/env bash
# Load benchmark of the web platform (issue 3): wrk against the overview page and an enterprise's
# API route, on the 16,000-enterprise demo city, 100 connections for 60 s each. The server and wrk
# share this machine's cores, so the figures are what one 2-core box does while also loading itself.
#
# usage: bench/web_load.sh [DURATION]        (default: 60s)
# needs: a release build (cargo build --release), wrk, curl
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=$(realpath "${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}")
DURATION=${1:-60s}
ADDR=127.0.0.1:8097
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
"$GUSU" demo --no-serve >/dev/null 2>&1
"$GUSU" --db gusu-demo.db serve --addr "$ADDR" >serve.log 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://$ADDR/login" >/dev/null && break; sleep 0.1; done

# A city analyst's session for the page; the enterprise route is read with the same session.
curl -sf -c cookies -H 'content-type: application/json' \
  -d '{"username":"analyst","password":"Gusu-Demo-2026!"}' "http://$ADDR/api/v1/session" >/dev/null
session=$(awk '$6 == "gusu_session" { print $7 }' cookies)
uscc=$(curl -sf -b "gusu_session=$session" "http://$ADDR/api/v1/results/2024?class=D" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["uscc"])')

for path in /overview "/api/v1/enterprises/$uscc/results/2024"; do
  # The first request builds the run's summary; the benchmark measures the steady state.
  curl -sf -o /dev/null -b "gusu_session=$session" "http://$ADDR$path"
  echo "== GET $path"
  wrk -t2 -c100 -d"$DURATION" --latency -H "Cookie: gusu_session=$session" "http://$ADDR$path" | tee wrk.out
  # wrk prints these lines only when some requests failed or answered other than 2xx/3xx.
  if grep -E "Socket errors|Non-2xx" wrk.out; then echo "errors under load" >&2; exit 1; fi
done
echo "== server peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/$server/status)"
