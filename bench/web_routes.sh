#!/usr/bin/env bash
# Every page and GET route of the web platform under load, in one run (issue 11, point 7): wrk with
# 100 connections for DURATION each, on the 16,000-enterprise demo city, signed in as the viewer
# who may read the route. Prints one markdown table row per route (requests/s, p50, p90, p99, and
# any errors). The server and wrk share this machine's cores.
#
# usage: bench/web_routes.sh [DURATION]        (default: 10s)
#        ONLY=REGEX bench/web_routes.sh ...      only the routes whose path matches
# needs: a release build (cargo build --release), wrk, curl, python3
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=$(realpath "${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}")
DURATION=${1:-10s}
ADDR=127.0.0.1:8098
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
"$GUSU" demo --no-serve >/dev/null 2>&1
# The administrators sign in with a password alone here (no TOTP app on a benchmark machine).
GUSU__SESSION__ADMIN_SECOND_FACTOR=false "$GUSU" --db gusu-demo.db serve --insecure-cookies --addr "$ADDR" >serve.log 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/login" >/dev/null && break; sleep 0.1; done

session() {
  curl -sf -c "cookies.$1" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"Gusu-Demo-2026!\"}" "http://$ADDR/api/v1/session" >/dev/null
  awk '$6 == "gusu_session" { print $7 }' "cookies.$1"
}
analyst=$(session analyst)
auditor=$(session auditor)
sysadmin=$(session sysadmin)
uscc=$(curl -sf -b "gusu_session=$analyst" "http://$ADDR/api/v1/results/2024?class=D" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["uscc"])')

routes=(
  "analyst /overview" "analyst /enterprises" "analyst /enterprises/$uscc"
  "analyst /enterprises/$uscc/energy" "analyst /districts/320583" "analyst /rules"
  "analyst /energy" "analyst /cycles" "analyst /imports" "analyst /notices" "analyst /nzc"
  "analyst /enterprises.xlsx"
  "analyst /api/v1/me" "analyst /api/v1/results/2024" "analyst /api/v1/overview/2024"
  "analyst /api/v1/enterprises/$uscc" "analyst /api/v1/enterprises/$uscc/results/2024"
  "analyst /api/v1/enterprises/$uscc/energy" "analyst /api/v1/energy/2024"
  "analyst /api/v1/cycles" "analyst /api/v1/notices" "analyst /api/v1/imports"
  "analyst /api/v1/nzc/applications" "analyst /api/v1/nzc/criteria" "analyst /api/v1/schemes"
  "analyst /api/v1/openapi.json"
  "auditor /audit" "auditor /api/v1/audit" "sysadmin /admin/accounts" "sysadmin /api/v1/accounts"
  "none /login" "none /static/gusu.css"
)
echo "| route | viewer | requests/s | p50 | p90 | p99 | errors |"
echo "|---|---|---:|---:|---:|---:|---|"
for entry in "${routes[@]}"; do
  who=${entry%% *}
  path=${entry#* }
  if [ -n "${ONLY:-}" ] && ! [[ $path =~ $ONLY ]]; then continue; fi
  cookie=""
  case $who in
    analyst) cookie="gusu_session=$analyst" ;;
    auditor) cookie="gusu_session=$auditor" ;;
    sysadmin) cookie="gusu_session=$sysadmin" ;;
  esac
  # The first request builds any per-run summary; the load measures the steady state.
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "http://$ADDR$path")
  wrk -t2 -c100 -d"$DURATION" --latency -H "Cookie: $cookie" "http://$ADDR$path" >wrk.out
  python3 - "$path" "$who" "$code" <<'EOF'
import re, sys
path, who, code = sys.argv[1:4]
text = open("wrk.out").read()
def latency(p):
    m = re.search(rf"^\s*{p}%\s+(\S+)", text, re.M)
    return m.group(1) if m else "?"
rps = re.search(r"Requests/sec:\s+(\S+)", text)
errors = []
if code != "200":
    errors.append(f"first answer {code}")
for line in text.splitlines():
    if "Socket errors" in line or "Non-2xx" in line:
        errors.append(line.strip())
print(f"| `{path}` | {who} | {rps.group(1) if rps else '?'} | {latency(50)} | {latency(90)} | "
      f"{latency(99)} | {'; '.join(errors) or '—'} |")
EOF
done
echo "server peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/$server/status)"
