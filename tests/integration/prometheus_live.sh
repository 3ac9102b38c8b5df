#!/usr/bin/env bash
# Live metrics with Debian's real Prometheus: it scrapes the engine's
# --metrics-addr every second during a short embedded run (a producer and the
# ETL into Redis); its API then has to show the run: the acknowledged counter
# rising at the configured rate, latency quantiles, every phase by name, the
# target up throughout, and at the end exactly the counts summary.json has.
# The Grafana dashboard may only use series the engine exports, and each of
# its panels must have data. The same Prometheus serves the C++ client tests
# (PrometheusQuery). Last, an address that cannot be bound stops the run
# before it starts (exit 2, the address named).
set -uo pipefail
ENGINE=$1
SRC=$2
QUERY_TESTS=$3
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"
DASHBOARD="$SRC/manifests/grafana/kapture-engine-dashboard.json"

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prometheus' HTTP API from Python (stdlib only).
cat >"$work/prom.py" <<'EOF'
import datetime, json, re, sys, urllib.parse, urllib.request

def query(base, q, t=None):
    params = {"query": q}
    if t:
        params["time"] = t
    with urllib.request.urlopen(base + "/api/v1/query?" + urllib.parse.urlencode(params), timeout=10) as r:
        d = json.load(r)["data"]
    if d["resultType"] == "scalar":
        return [({}, float(d["result"][1]))]
    return [(s["metric"], float(s["value"][1])) for s in d["result"]]

# The metric names a PromQL expression (or a Grafana label_values() query) reads.
def metric_names(expr):
    e = re.sub(r'label_values\(\s*([^,()]*?)\s*,\s*\w+\s*\)', r' \1 ', expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)
    e = re.sub(r'\{[^}]*\}', ' ', e)
    e = re.sub(r'\[[^\]]*\]', ' ', e)
    e = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', e)
    e = re.sub(r'\$\w+', ' ', e)
    names = set()
    for m in re.finditer(r'[A-Za-z_:][A-Za-z0-9_:]*', e):
        if e[m.end():].lstrip().startswith('(') or m.group(0) in ('and', 'or', 'unless', 'bool', 'offset'):
            continue
        names.add(m.group(0))
    return names

def dashboard_exprs(path):
    d = json.load(open(path))
    exprs = [(p["title"], t["expr"]) for p in d["panels"] for t in p.get("targets", []) if t.get("expr")]
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        exprs.append(("variable " + v["name"], q["query"] if isinstance(q, dict) else q))
    return exprs

def event_time(events, kind, phase):
    for line in open(events):
        e = json.loads(line)
        if e["type"] == kind and e.get("phase") == phase:
            t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
            return t.replace(tzinfo=datetime.timezone.utc).timestamp()
    raise SystemExit("no %s event for %s" % (kind, phase))

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "value":  # value BASE QUERY [TIME]: the one result's value, else "none" or "N series"
    r = query(*args)
    print("%.10g" % r[0][1] if len(r) == 1 else "none" if not r else "%d series" % len(r))
elif cmd == "labels":  # labels BASE QUERY LABEL [TIME]: the label's values in the result, sorted
    r = query(args[0], args[1], *args[3:])
    print(",".join(sorted({m.get(args[2], "") for m, _ in r})))
elif cmd == "time":  # time EVENTS phase_start|phase_end PHASE: Unix time of the event
    print("%.3f" % event_time(*args))
elif cmd == "names":  # names DASHBOARD KNOWN_NAMES_FILE: dashboard metric names not exported
    known = set(open(args[1]).read().split())
    used = set().union(*(metric_names(e) for _, e in dashboard_exprs(args[0])))
    print("dashboard reads %d metrics: %s" % (len(used), " ".join(sorted(used))), file=sys.stderr)
    print(" ".join(sorted(n for n in used if n not in known)))
elif cmd == "panels":  # panels BASE DASHBOARD JOB TIME: panels whose expressions return nothing then
    base, path, job, t = args
    empty = []
    for title, e in dashboard_exprs(path):
        if title.startswith("variable "):
            continue
        e = e.replace("$job", job).replace("$__rate_interval", "4s")
        if not query(base, e, t):
            empty.append("%s: %s" % (title, e))
    print("\n".join(empty))
EOF
pq() { /usr/bin/python3 "$work/prom.py" "$@"; }
# holds VALUE PYTHON-EXPR-OF-x: a number that satisfies the expression
holds() { /usr/bin/python3 -c 'import sys
try: x = float(sys.argv[1])
except ValueError: sys.exit(1)
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; }

# Prometheus first, scraping a port the engine will listen on.
eport=$(free_port)
pport=$(free_port)
PROM="http://127.0.0.1:$pport"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kapture
    static_configs:
      - targets: ['127.0.0.1:$eport']
EOF
/usr/bin/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
ready=false
for _ in $(seq 600); do  # readiness: /-/ready answers 200, at most 60 s
  if curl -sf "$PROM/-/ready" >/dev/null; then ready=true; break; fi
  kill -0 "$prom_pid" 2>/dev/null || break
  sleep 0.1
done
check "prometheus is ready" $ready
if ! $ready; then cat "$work/prometheus.log"; finish; exit 1; fi

run_kept "$F/prometheus-live.yaml" --metrics-addr "127.0.0.1:$eport" || { finish; exit 1; }
check "run passed" test "$(json "$summary" "j['verdict']['exit_code']")" = 0
check "engine printed the metrics address" grep -qx "metrics: http://127.0.0.1:$eport/metrics" "$work/stderr"

# The endpoint is still up (the cluster is kept): scrape it directly too.
curl -s -D "$work/headers" "http://127.0.0.1:$eport/metrics" >"$work/scrape.txt"
check "content type is the text format 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$work/headers"
promtool check metrics <"$work/scrape.txt" >"$work/promtool.txt" 2>&1
check "promtool finds nothing wrong with the exposition" test $? = 0
cat "$work/promtool.txt"

events="$dir/events.jsonl"
t0=$(pq time "$events" phase_start warmup)
s0=$(pq time "$events" phase_start steady)
s1=$(pq time "$events" phase_end steady)
t1=$(pq time "$events" phase_end drain)
mid=$(/usr/bin/python3 -c "print(($s0 + $s1) / 2)")
span=$(/usr/bin/python3 -c "import math; print(math.ceil($t1 - $t0))")
echo "timeline $t0 .. $t1 (${span}s), steady $s0 .. $s1"

check "up == 1 throughout the timeline" test "$(pq value "$PROM" "min_over_time(up{job=\"kapture\"}[${span}s])" "$t1")" = 1
n=$(pq value "$PROM" "count_over_time(up{job=\"kapture\"}[${span}s])" "$t1")
check "scraped about every second ($n scrapes in ${span}s)" holds "$n" "x >= 0.8 * $span"
# produce.* metrics come as a total (topic="") and per topic in one family.
a0=$(pq value "$PROM" 'kapture_produce_acked_total{topic=""}' "$s0")
a1=$(pq value "$PROM" 'kapture_produce_acked_total{topic=""}' "$s1")
check "kapture_produce_acked_total rose during steady ($a0 -> $a1)" holds "$a1" "x > float('$a0') + 2000"
# The exposition trails by a second or two (completed seconds only): a window
# ending a second before the phase does lies inside it.
rate=$(pq value "$PROM" 'rate(kapture_produce_acked_total{topic=""}[6s])' "$(/usr/bin/python3 -c "print($s1 - 1)")")
check "acked rate in steady is 400/s +-20% (measured $rate)" holds "$rate" "320 <= x <= 480"
check "target rate series says 400/s in steady" test "$(pq value "$PROM" 'kapture_target_rate{workload="tx"}' "$mid")" = 400
check "four produce latency quantiles in steady" test "$(pq value "$PROM" 'count(kapture_produce_latency_seconds{topic="",quantile=~"0.5|0.9|0.99|0.999"} >= 0)' "$mid")" = 4
p99=$(pq value "$PROM" 'kapture_produce_latency_seconds{topic="",quantile="0.99"}' "$mid")
check "produce p99 is a latency (${p99}s)" holds "$p99" "0 < x < 5"
check "etl latency quantiles too" test "$(pq value "$PROM" 'count(kapture_etl_latency_seconds >= 0)' "$mid")" = 4
check "phase in steady is steady, index 1" test "$(pq labels "$PROM" 'kapture_phase_info == 1' phase "$mid"),$(pq value "$PROM" kapture_phase_index "$mid")" = "steady,1"
phases_seen=$(pq labels "$PROM" "count by (phase) (count_over_time(kapture_phase_info[$((span + 5))s]))" phase "$(/usr/bin/python3 -c "print($t1 + 2)")")
check "kapture_phase_info had every phase (saw: $phases_seen)" test "$phases_seen" = "drain,steady,warmup"

# The end state: a scrape after the run has the run's totals.
want=$(json "$summary" "j['run']['counters']['produce.acked']")
got=none
for _ in $(seq 100); do
  got=$(pq value "$PROM" 'kapture_produce_acked_total{topic=""}')
  [ "$got" = "$want" ] && break
  sleep 0.2
done
check "after the run, Prometheus has summary.json's produce.acked ($got vs $want)" test "$got" = "$want"
check "the one topic's series has it too" test "$(pq value "$PROM" 'kapture_produce_acked_total{topic="t"}')" = "$want"
check "and the etl's written count" test "$(pq value "$PROM" 'kapture_etl_written_total')" = "$(json "$summary" "j['run']['counters']['etl.written']")"

# The dashboard: only names the engine exports, and data in every panel.
{
  sed -n 's/^\([a-zA-Z_:][a-zA-Z0-9_:]*\)[{ ].*/\1/p' "$work/scrape.txt"
  curl -s "$PROM/api/v1/label/__name__/values" | /usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["data"]))'
} | sort -u >"$work/names.txt"
missing=$(pq names "$DASHBOARD" "$work/names.txt")
check "every metric the dashboard reads is exported${missing:+ (missing: $missing)}" test -z "$missing"
empty=$(pq panels "$PROM" "$DASHBOARD" kapture "$mid")
check "every dashboard panel has data in steady" test -z "$empty"
[ -n "$empty" ] && echo "$empty"

# The C++ client against this Prometheus.
PROMETHEUS_URL=$PROM KAPTURE_STEADY_AT=$mid "$QUERY_TESTS" -ts=query >"$work/query-tests.txt" 2>&1
check "PrometheusQuery tests against this Prometheus" test $? = 0
grep -E 'test cases|ERROR|skipped' "$work/query-tests.txt"

stop_kept
check "the endpoint is gone with the engine" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$eport/metrics")" = 000

# A taken address: exit 2 before anything starts, naming it; no results left.
"$ENGINE" run "$F/prometheus-live.yaml" --results "$work/taken" --metrics-addr "127.0.0.1:$pport" >"$work/taken.out" 2>"$work/taken.err"
rc=$?
check "a taken --metrics-addr exits 2" test $rc = 2
check "and names the address" grep -q "127.0.0.1:$pport" "$work/taken.err"
check "and leaves no results directory" test -z "$(ls "$work/taken" 2>/dev/null)"
cat "$work/taken.err"

# prometheus expectations, against this same Prometheus scraping the run:
# a resource check and a count that hold, a broken query and a query with no
# series that fail with what Prometheus said.
"$ENGINE" validate "$F/prometheus-live.yaml" --set 'expect=[{prometheus: "up", value: "== 1"}]' >"$work/nourl.out" 2>&1
check "a prometheus expectation without a server: exit 2" test $? = 2
check "and says where to give one" grep -q "topology.prometheus.url, 'url' on the item, or --prometheus URL" "$work/nourl.out"
"$ENGINE" run "$F/prometheus-live.yaml" --results "$work/pq" --quiet --metrics-addr "127.0.0.1:$eport" --prometheus "$PROM" \
  --set timeline.steady.duration=4s --set 'expect=[
    {prometheus: "max(kapture_engine_rss_bytes)", value: "< 4GiB"},
    {prometheus: "kapture_produce_acked_total{topic=\"\"}", value: "> 100"},
    {prometheus: "sum(rate(kapture_produce_acked_total[5s]", value: "> 0"},
    {prometheus: "kapture_no_such_metric", value: "> 0"}]' >"$work/pq.out" 2>"$work/pq.err"
rc=$?
psum=$(ls "$work"/pq/*/summary.json 2>/dev/null | head -1)
check "prometheus expectations run: exit 1 (two are meant to fail)" test $rc = 1
if [ -n "$psum" ]; then
  check "engine RSS from Prometheus is under 4GiB" test "$(json "$psum" "j['expectations'][0]['pass']")" = True
  check "its measured value is bytes, not zero" holds "$(json "$psum" "j['expectations'][0]['measured']")" "x > 1e6"
  check "acknowledged count from Prometheus > 100" test "$(json "$psum" "j['expectations'][1]['pass']")" = True
  check "a broken query fails with Prometheus' parse error" \
    test "$(json "$psum" "(j['expectations'][2]['pass'], 'parse error' in j['expectations'][2]['measured_text'] + j['expectations'][2].get('note', ''))")" = "(False, True)"
  check "a query matching nothing is no data" test "$(json "$psum" "(j['expectations'][3]['pass'], j['expectations'][3]['measured_text'])")" = "(False, 'no data')"
else
  check "prometheus expectations run wrote summary.json" false
fi

finish
