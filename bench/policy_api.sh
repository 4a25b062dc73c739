#!/usr/bin/env bash
# The policy calculator through the API under load (issue 12): 100 concurrent clients, wrk,
# for DURATION each, on the 16,000-enterprise demo city.
#   1. POST /api/v1/calculate for one stored enterprise (the demo's enterprise account, reading
#      its own register entry, figures, class, designations and projects) with a what-if loan;
#   2. POST /api/v1/calculate for a hypothetical enterprise (nothing stored is read);
#   3. GET /api/v1/enterprises/{uscc}/policies (the enterprise's page data);
# each with full traces, and as `summary` (statuses, amounts, reasons; no traces).
# Prints one markdown table row per case (requests/s, p50, p90, p99, errors). The server and wrk
# share this machine's cores.
#
# usage: bench/policy_api.sh [DURATION]     (default: 10s)
# needs: a release build (cargo build --release), wrk, curl, python3
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=$(realpath "${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}")
DURATION=${1:-10s}
ADDR=127.0.0.1:8099
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
"$GUSU" demo --no-serve >/dev/null 2>&1
"$GUSU" --db gusu-demo.db serve --insecure-cookies --addr "$ADDR" >serve.log 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/login" >/dev/null && break; sleep 0.1; done

curl -sf -c cookies -H 'content-type: application/json' \
  -d '{"username":"qiye","password":"Gusu-Demo-2026!"}' "http://$ADDR/api/v1/session" >session.json
cookie="gusu_session=$(awk '$6 == "gusu_session" { print $7 }' cookies)"
csrf=$(python3 -c 'import json; print(json.load(open("session.json"))["csrf"])')
uscc=$(curl -sf -b "$cookie" "http://$ADDR/api/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["scope"]["of"])')

cat >stored.json <<JSON
{"uscc":"$uscc","date":"2026-11-30","projects":[{"project_id":"idea","kind":"upgrade","date":"2026-11-20","equipment_loan_10k_yuan":3000}]}
JSON
cat >stored_summary.json <<JSON
{"uscc":"$uscc","date":"2026-11-30","detail":"summary","projects":[{"project_id":"idea","kind":"upgrade","date":"2026-11-20","equipment_loan_10k_yuan":3000}]}
JSON
cat >hypothetical.json <<JSON
{"date":"2022-12-31","enterprise":{"district":"320583","division":34,"established":"2010-01-01","designations":[{"designation":"zjtx","level":"provincial","recognised":"2021-01-01"}]},"projects":[{"project_id":"p","kind":"smart_transformation","date":"2022-06-01","loan_10k_yuan":15000}]}
JSON
post_lua() {
  cat >post.lua <<LUA
wrk.method = "POST"
wrk.body = io.open("$1"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CSRF-Token"] = "$csrf"
wrk.headers["Cookie"] = "$cookie"
LUA
}

echo "| case | requests/s | p50 | p90 | p99 | errors |"
echo "|---|---:|---:|---:|---:|---|"
run() {
  local name=$1; shift
  wrk -t2 -c100 -d"$DURATION" --latency "$@" >wrk.out
  python3 - "$name" <<'PY'
import re, sys
text = open("wrk.out").read()
def latency(p):
    m = re.search(rf"^\s*{p}%\s+(\S+)", text, re.M)
    return m.group(1) if m else "?"
rps = re.search(r"Requests/sec:\s+(\S+)", text)
errors = [l.strip() for l in text.splitlines() if "Socket errors" in l or "Non-2xx" in l]
print(f"| {sys.argv[1]} | {rps.group(1) if rps else '?'} | {latency(50)} | {latency(90)} | "
      f"{latency(99)} | {'; '.join(errors) or '—'} |")
PY
}
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d @stored.json "http://$ADDR/api/v1/calculate")
[ "$code" = 200 ] || { echo "calculate answered $code" >&2; exit 1; }
post_lua stored.json
run "POST /api/v1/calculate, stored enterprise + what-if loan" -s post.lua "http://$ADDR/api/v1/calculate"
post_lua stored_summary.json
run "POST /api/v1/calculate, stored enterprise + what-if loan, summary (no traces)" -s post.lua "http://$ADDR/api/v1/calculate"
post_lua hypothetical.json
run "POST /api/v1/calculate, hypothetical enterprise" -s post.lua "http://$ADDR/api/v1/calculate"
run "GET /api/v1/enterprises/{uscc}/policies" -H "Cookie: $cookie" "http://$ADDR/api/v1/enterprises/$uscc/policies"
run "GET /api/v1/enterprises/{uscc}/policies?detail=summary" -H "Cookie: $cookie" "http://$ADDR/api/v1/enterprises/$uscc/policies?detail=summary"
run "GET /api/v1/me (for scale: the cheapest signed-in route)" -H "Cookie: $cookie" "http://$ADDR/api/v1/me"
echo "server peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/$server/status)"
