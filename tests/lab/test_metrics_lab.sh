#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Prometheus metrics listener (--metrics-listen), end to end in the base lab
# (tests/lab/lab.sh). pollux listens on 127.0.0.1 inside its own namespace, a kernel socket the
# DPDK port never sees; curl and a real Prometheus server run in that namespace too.
#   0. a bad --metrics-listen stops pollux at start, saying why;
#   1. GET /metrics answers 200 in the text format, and `promtool check metrics` accepts it;
#   2. every figure `polluxctl stats` prints is there (per-worker counters labelled by worker);
#   3. a DNS query through the lab moves pollux_queries_total;
#   4. other paths get 404 (/health is served: test_health_lab.sh), other methods 405, an 8 KiB
#      head 431, all counted;
#   5. a client that connects and stalls blocks neither a second scrape nor polluxctl, and is
#      closed after its deadline (counted);
#   6. a Prometheus server (its own config and data under /tmp, scrape interval 1 s, on
#      loopback in the same namespace) scrapes pollux, and a pollux series reads back through
#      its HTTP API (/api/v1/query);
#   7. the example Grafana dashboard (dist/grafana-pollux.json) names only exported series, and
#      Prometheus evaluates each of its queries.
#
# Runs as root, unattended, in about 30 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. The lab and Prometheus are stopped at exit.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

ZONE=$TEST_DIR/zones/example.test.zone
MPORT=9153
PPORT=9090
URL=http://127.0.0.1:$MPORT
TMP=$(mktemp -d /tmp/pollux-metrics-lab.XXXXXX)
PROM_PID=
STALL_PID=

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$STALL_PID" ] && kill "$STALL_PID" 2>/dev/null
	if [ -n "$PROM_PID" ]; then
		kill "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
	fi
	lab_down >/dev/null 2>&1 || echo "# warning: lab teardown reported errors" >&2
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

in_px() {
	ip netns exec "$POLLUX_LAB_NS_PX" "$@"
}

scrape() { # scrape [curl options...] PATH: the body; -w adds the status on a last line
	in_px curl -sS --max-time 3 "$@"
}

metric() { # metric SERIES: the value of one exact series (name and labels) in $TMP/m.txt
	awk -v s="$1" '$1 == s {print $2}' "$TMP/m.txt"
}

lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }
for t in dig curl promtool prometheus python3; do
	command -v "$t" >/dev/null 2>&1 || { not_ok "prerequisites" "$t is not installed"; exit 1; }
done

# 0. Refused before the EAL starts: no lab needed.
err=$("$POLLUX_BIN" -- --ip 198.18.0.2/24 --metrics-listen 127.0.0.1 2>&1)
rc=$?
check "a --metrics-listen without a port exits non-zero at start, saying why" "exit $rc: $(oneline "$err")" \
	test "$rc" -ne 0 -a -n "$(grep -F "pollux: --metrics-listen: '127.0.0.1': expected IPV4:PORT or [IPV6]:PORT" <<<"$err")"

if ! lab_up >/dev/null; then
	not_ok "lab comes up" "see the lab's errors above"
	exit 1
fi
in_px ip link set lo up
# A gateway turns recursion on, so that the resolver's figures are listed too.
if ! lab_start --local-zone "$ZONE" --gateway "$LAB_CLI_IP4" --metrics-listen "127.0.0.1:$MPORT"; then
	not_ok "pollux starts with --metrics-listen" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with --metrics-listen 127.0.0.1:$MPORT (PMD $(lab_pmd))"

# 1. The format.
hdr=$(scrape -D - -o "$TMP/m.txt" "$URL/metrics")
check "GET /metrics answers 200 text/plain version 0.0.4" "$(oneline "$hdr")" \
	grep -q "^Content-Type: text/plain; version=0.0.4" <<<"$hdr"
out=$(promtool check metrics <"$TMP/m.txt" 2>&1)
rc=$?
check "promtool check metrics accepts the output ($(grep -c '^pollux_' "$TMP/m.txt") samples)" \
	"exit $rc: $(oneline "$(head -c 600 <<<"$out")")" test "$rc" -eq 0
check "gauges for cache entries, mbufs in use and the hints generation" \
	"$(oneline "$(grep -E '^pollux_(cache_entries|mbufs_in_use|hints_generation) ' "$TMP/m.txt")")" \
	test "$(grep -cE '^# TYPE pollux_(cache_entries|mbufs_in_use|hints_generation) gauge$' "$TMP/m.txt")" -eq 3 \
	-a "$(metric pollux_hints_generation)" = 1
check "no latency histogram is claimed (pollux measures none)" "" \
	test "$(grep -c ' histogram$' "$TMP/m.txt")" -eq 0

# 2. Everything polluxctl stats prints, under its Prometheus name.
lab_ctl stats >"$TMP/stats.txt"
scrape -o "$TMP/m.txt" "$URL/metrics"
missing=$(awk '
	function prom(n,   k, t, i, r) { # sanitised, and "ns" spelt out (promtool: nanoseconds)
		gsub(/[^A-Za-z0-9_]/, "_", n)
		k = split(n, t, "_")
		for (i = 1; i <= k; i++)
			r = r (i > 1 ? "_" : "") (t[i] == "ns" ? "nameserver" : t[i])
		return r
	}
	BEGIN { g["tsc.hz"] = "tsc_hz"; g["mbufs.in_use"] = "mbufs_in_use";
		g["mbufs.total"] = "mbufs_capacity"; g["cache.slots"] = "cache_slots";
		g["cache.entries"] = "cache_entries"; g["cache.pinned"] = "cache_pinned";
		g["cache.writers"] = "cache_writers";
		g["hints.generation"] = "hints_generation" }
	NR == FNR { if ($1 !~ /^#/) have[$1] = 1; next }
	$1 ~ /^total\./ { next }
	{
		n = $1
		if (match(n, /^worker[0-9]+\./)) {
			w = substr(n, 7, RLENGTH - 7)
			s = "pollux_" prom(substr(n, RLENGTH + 1)) "_total{worker=\"" w "\"}"
		} else if (n in g) {
			s = "pollux_" g[n]
		} else {
			s = "pollux_" prom(n) "_total"
		}
		if (!(s in have)) print s
	}' "$TMP/m.txt" "$TMP/stats.txt")
check "every figure of polluxctl stats ($(wc -l <"$TMP/stats.txt") lines) is exported" \
	"missing: $(oneline "$(head -20 <<<"$missing")")" test -z "$missing"
check "no unlabelled total series beside the per-worker ones" "" \
	test -z "$(grep -E '^pollux_queries_total ' "$TMP/m.txt")"

# 3. A query through the lab moves a counter.
q0=$(metric 'pollux_queries_total{worker="0"}')
ans=$(lab_cli dig +tries=1 +time=1 "@$LAB_PX_IP4" www.example.test A +short)
scrape -o "$TMP/m.txt" "$URL/metrics"
q1=$(metric 'pollux_queries_total{worker="0"}')
check "a DNS query through the lab moves pollux_queries_total ($q0 -> $q1)" "answer '$ans'" \
	test -n "$q0" -a -n "$q1" -a "${q1:-0}" -gt "${q0:-0}"

# 4. Refusals.
st=$(scrape -o /dev/null -w '%{http_code}' "$URL/healthz")
check "GET /healthz answers 404" "status $st" test "$st" = 404
st=$(scrape -o /dev/null -w '%{http_code}' "$URL/")
check "GET / answers 404" "status $st" test "$st" = 404
st=$(scrape -o /dev/null -w '%{http_code}' -X POST -d x "$URL/metrics")
check "POST /metrics answers 405" "status $st" test "$st" = 405
st=$(scrape -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 8192 /dev/zero | tr '\0' a)" "$URL/metrics")
check "an 8 KiB request head answers 431" "status $st" test "$st" = 431
scrape -o "$TMP/m.txt" "$URL/metrics"
check "the refusals are counted (404 x2, 405, 431)" \
	"$(oneline "$(grep -E '^pollux_metrics_(not_found|bad_method|too_large)_total' "$TMP/m.txt")")" \
	test "$(metric pollux_metrics_not_found_total)" = 2 -a \
	"$(metric pollux_metrics_bad_method_total)" = 1 -a "$(metric pollux_metrics_too_large_total)" = 1

# 5. A stalled client: half a request head, then nothing.
in_px bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.1\r\n' >&3;
	cat <&3 >$TMP/stalled.out; echo closed >>$TMP/stalled.out" &
STALL_PID=$!
sleep 0.3
t0=$(date +%s%N)
st=$(scrape -o "$TMP/m2.txt" -w '%{http_code}' "$URL/metrics")
t1=$(date +%s%N)
check "a second scrape is answered while a client stalls ($(((t1 - t0) / 1000000)) ms)" "status $st" \
	test "$st" = 200 -a $(((t1 - t0) / 1000000)) -lt 1000
out=$(lab_ctl status 2>&1)
check "polluxctl answers while a metrics client stalls" "$(oneline "$out")" grep -q '^link: up' <<<"$out"
for _ in $(seq 1 50); do
	grep -q closed "$TMP/stalled.out" 2>/dev/null && break
	sleep 0.1
done
check "the stalled client is closed within its 3 s deadline" \
	"$(oneline "$(cat "$TMP/stalled.out" 2>/dev/null)")" grep -q closed "$TMP/stalled.out"
wait "$STALL_PID" 2>/dev/null
STALL_PID=
scrape -o "$TMP/m.txt" "$URL/metrics"
check "the stall is counted (pollux_metrics_timeouts_total)" "$(metric pollux_metrics_timeouts_total)" \
	test "$(metric pollux_metrics_timeouts_total)" = 1

# 6. A real Prometheus scrapes pollux.
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pollux
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
in_px prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$PPORT" </dev/null >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
api() { # api QUERY: the first result's value and its labels, as JSON via python
	in_px curl -sS --max-time 2 -G --data-urlencode "query=$1" \
		"http://127.0.0.1:$PPORT/api/v1/query" 2>/dev/null |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
r = d["data"]["result"] if d.get("status") == "success" else []
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
got=
for _ in $(seq 1 60); do
	got=$(api 'pollux_queries_total{job="pollux",worker="0"}')
	[ -n "$got" ] && break
	sleep 0.5
done
check "Prometheus scrapes pollux: pollux_queries_total{worker=\"0\"} reads back through /api/v1/query ($got)" \
	"$(oneline "$(tail -5 "$TMP/prometheus.log")")" test -n "$got" -a "${got:-0}" -ge "${q1:-1}"
up=$(api 'up{job="pollux"}')
check "Prometheus sees the target up" "up=$up" test "$up" = 1
sum=$(api 'sum(pollux_rx_pkts_total)')
check "sum() over the workers gives the total" "sum=$sum" test -n "$sum" -a "${sum:-0}" -gt 0

# The example Grafana dashboard: every series it names exists, and every query is valid PromQL
# that Prometheus evaluates (Grafana's variables filled in).
DASH=$LAB_ROOT/dist/grafana-pollux.json
missing=
for n in $(grep -o 'pollux_[a-z0-9_]*' "$DASH" | sort -u); do
	grep -q "^# TYPE $n " "$TMP/m.txt" || missing="$missing $n"
done
check "every series the Grafana dashboard names is exported" "missing:$missing" test -z "$missing"
bad=$(in_px python3 - "$DASH" "$PPORT" <<'PY' 2>&1
import json, subprocess, sys, urllib.parse
dash = json.load(open(sys.argv[1]))
for p in dash["panels"]:
    for t in p["targets"]:
        q = t["expr"].replace("$__rate_interval", "5s").replace("$instance", ".*")
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": q}))
        out = subprocess.run(["curl", "-sS", "--max-time", "2", url], capture_output=True, text=True).stdout
        try:
            ok = json.loads(out).get("status") == "success"
        except ValueError:
            ok = False
        if not ok:
            print("%s: %s" % (p["title"], out.strip()[:200]))
PY
)
check "Prometheus evaluates every query of the Grafana dashboard" "$(oneline "$bad")" test -z "$bad"
