#!/usr/bin/env bash
# Kubernetes API load against a real control plane (scripts/kube-up):
#   - scenarios/k8s-api-churn.yaml, shortened: the churn reaches its create
#     rate within 2%, the population settles near rate x lifetime, every
#     object is deleted by the end, and every notification the observers got
#     has a latency (created x observers ADDED events, none missed);
#   - scenarios/k8s-api-lifecycle.yaml, shortened: lifecycles and writes
#     counted, reads measured, restarting watches miss nothing;
#   - a token that may list but not create ConfigMaps: every create is a 403,
#     counted as such and failing the run's expectations;
#   - API Priority and Fairness rejecting this client's concurrent creates:
#     the 429s are counted (as many as the API server says it rejected) and
#     retried;
#   - a churn of a custom resource over two client pools, with the per-operation CSV;
#   - scenarios/k8s-api-kafka.yaml: the Kafka pipeline (real brokers on
#     loopback) and API churn in one run and one report;
#   - kube-apiserver restarted under churn: the run goes on and records the
#     outage in summary.json's faults.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

kdir=$work/kube
trap '"$SRC/scripts/kube-down" "$kdir" >/dev/null 2>&1 || true; cleanup' EXIT
kubeconfig=$("$SRC/scripts/kube-up" "$kdir" 2>"$work/kube-up.err" | tail -n 1)
if [ ! -f "$kubeconfig" ]; then cat "$work/kube-up.err"; echo "FAIL kube-up"; exit 1; fi
bin=$("$SRC/scripts/fetch-kube" 2>/dev/null | tail -n 1)
k() { "$bin/kubectl" --kubeconfig="$kubeconfig" --request-timeout=30s "$@"; }
# A namespace of the test's own (labelled for the engine), so what is left
# in it after a run can be counted.
k create namespace api-it >/dev/null
k label namespace api-it kapture.io/chaos=allowed >/dev/null
run_dir() { ls -d "$1"/*/ | head -1; }
metric() {  # metric SUMMARY EXPR: over the whole run's metrics as `m`
  json "$1" "(lambda m: $2)(j['run'])"
}

# ---- 1. churn ----
"$ENGINE" run "$SRC/scenarios/k8s-api-churn.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n api-it --results "$work/r1" \
  --set timeline.ramp.duration=5s --set timeline.steady.duration=20s --set workloads.churn.lifetime=5s >"$work/r1.out" 2>"$work/r1.err"
rc=$?
r1=$(run_dir "$work/r1")
cat "$work/r1.out"
check "churn: passes (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r1.err"
s1=$r1/summary.json
intended=$(json "$s1" "[p for p in j['phases'] if p['name']=='steady'][0]['metrics']['counters'].get('kube.intended', 0)")
created=$(json "$s1" "[p for p in j['phases'] if p['name']=='steady'][0]['metrics']['counters'].get('kube.created', 0)")
echo "steady: intended $intended creates, $created created"
check "churn: the steady phase created within 2% of its intended creates" \
  /usr/bin/python3 -c "import sys; i, c = $intended, $created; sys.exit(0 if i > 0 and abs(c - i) <= 0.02 * i else 1)"
check "churn: about 50/s x 20 s were intended (Poisson)" /usr/bin/python3 -c "import sys; sys.exit(0 if 800 <= $intended <= 1200 else 1)"
population=$(json "$s1" "[p for p in j['phases'] if p['name']=='steady'][0]['metrics']['gauges']['kube.population']['last']")
check "churn: the population settles near rate x lifetime (250, got $population)" \
  /usr/bin/python3 -c "import sys; sys.exit(0 if 200 <= $population <= 300 else 1)"
check "churn: every object it created was deleted by the end" \
  test "$(k get configmaps -n api-it -l kapture.io/workload=churn --no-headers 2>/dev/null | wc -l)" = 0
check "churn: created == deleted" test "$(metric "$s1" "m['counters']['kube.created'] == m['counters']['kube.deleted']")" = True
samples=$(metric "$s1" "m['histograms']['kube.watch_latency']['count']")
total_created=$(metric "$s1" "m['counters']['kube.created']")
echo "watch: $samples notification latencies for $total_created objects created x 3 observers"
# Churn objects are created once and never modified: one ADDED each, per observer.
check "watch: one latency per create per observer" test "$samples" = "$((total_created * 3))"
check "watch: nothing missed, nothing twice" test "$(metric "$s1" "m['counters'].get('kube.watch_missed', 0) + m['counters'].get('kube.watch_duplicates', 0)")" = 0
check "SLO latencies are in the summary" test "$(json "$s1" "sorted(e['expect'] for e in j['expectations'] if 'latency' in e['expect'])[0]")" = "p99(kube.list_latency) <= 30s"

# ---- 2. lifecycles ----
"$ENGINE" run "$SRC/scenarios/k8s-api-lifecycle.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n api-it --results "$work/r2" \
  --set timeline.steady.duration=15s --set workloads.observers.restart.min=3s --set workloads.observers.restart.max=6s >"$work/r2.out" 2>"$work/r2.err"
rc=$?
r2=$(run_dir "$work/r2")
cat "$work/r2.out"
check "lifecycle: passes (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r2.err"
s2=$r2/summary.json
lifecycles=$(metric "$s2" "m['counters']['kube.lifecycles']")
writes=$(metric "$s2" "m['counters']['kube.writes']")
echo "lifecycle: $lifecycles lifecycles, $writes writes"
# create + 5 updates + delete per finished lifecycle, and those of the 8 threads' last ones, cut short
check "lifecycle: 7 writes per lifecycle" test "$writes" -ge "$((lifecycles * 7))" -a "$writes" -lt "$(((lifecycles + 8) * 7))"
check "lifecycle: about 20/s x 15 s lifecycles" test "$lifecycles" -ge 250
check "lifecycle: one read per lifecycle measured" test "$(metric "$s2" "m['histograms']['kube.read_latency']['count']")" -ge "$lifecycles"
check "lifecycle: the watches restarted and missed nothing" \
  test "$(metric "$s2" "(m['counters'].get('kube.watch_restarts', 0) > 0, m['counters'].get('kube.watch_missed', 0))")" = "(True, 0)"
check "lifecycle: nothing left" test "$(k get configmaps -n api-it -l kapture.io/workload=lifecycles --no-headers 2>/dev/null | wc -l)" = 0

# ---- 3. 403 and 4. 429, with a service account of their own ----
cat >"$work/small.yaml" <<'EOF'
name: small-churn
target: kubernetes
topology:
  kubernetes: { deploy: [] }
workloads:
  churn:
    type: kube-churn
    object: { resource: configmaps }
    lifetime: 2s
    connections: 8
timeline:
  - phase: p
    duration: 3s
    load:
      churn: { rate: 2/s }
expect:
  - count(kube.errors) == 0
EOF
k create serviceaccount loader -n api-it >/dev/null
k create role cm-reader --verb=get,list,watch --resource=configmaps -n api-it >/dev/null
k create rolebinding loader --role=cm-reader --serviceaccount=api-it:loader -n api-it >/dev/null
k create clusterrole ns-get --verb=get --resource=namespaces >/dev/null
k create clusterrolebinding loader-ns --clusterrole=ns-get --serviceaccount=api-it:loader >/dev/null
token_kubeconfig() {  # token_kubeconfig SA FILE
  local token server
  token=$(k create token "$1" -n api-it)
  server=$(k config view --raw -o jsonpath='{.clusters[0].cluster.server}')
  k config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$work/ca.crt"
  printf 'apiVersion: v1\nkind: Config\nclusters: [{name: it, cluster: {server: "%s", certificate-authority: "%s"}}]\nusers: [{name: u, user: {token: "%s"}}]\ncontexts: [{name: c, context: {cluster: it, user: u}}]\ncurrent-context: c\n' \
    "$server" "$work/ca.crt" "$token" >"$2"
}
token_kubeconfig loader "$work/loader.kubeconfig"
"$ENGINE" run "$work/small.yaml" --target kubernetes --kubeconfig "$work/loader.kubeconfig" -n api-it --results "$work/r3" >"$work/r3.out" 2>"$work/r3.err"
rc=$?
s3=$(run_dir "$work/r3")summary.json
cat "$work/r3.out"
check "403: the run fails its expectation (exit 1), it does not crash" test "$rc" = 1
check "403: every create was refused and counted as forbidden" \
  test "$(metric "$s3" "(m['counters'].get('kube.forbidden', 0), m['counters'].get('kube.errors', 0)) == (m['counters']['kube.intended'], m['counters']['kube.intended'])")" = True
check "403: nothing was created" test "$(metric "$s3" "m['counters'].get('kube.created', 0)")" = 0

# API Priority and Fairness: creates of ConfigMaps by this service account
# go to a priority level with no seats that rejects at once (429).
k create serviceaccount throttled -n api-it >/dev/null
k create rolebinding throttled --clusterrole=edit --serviceaccount=api-it:throttled -n api-it >/dev/null
k create clusterrolebinding throttled-ns --clusterrole=ns-get --serviceaccount=api-it:throttled >/dev/null
k apply -f - >/dev/null <<'EOF'
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: kapture-it-reject}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse: {type: Reject}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: kapture-it-reject}
spec:
  priorityLevelConfiguration: {name: kapture-it-reject}
  matchingPrecedence: 100
  rules:
  - subjects: [{kind: ServiceAccount, serviceAccount: {name: throttled, namespace: api-it}}]
    resourceRules: [{verbs: [create], apiGroups: [""], resources: [configmaps], namespaces: [api-it]}]
EOF
token_kubeconfig throttled "$work/throttled.kubeconfig"
# A level without seats still lets one request through at a time: creates
# as fast as 8 connections go are what it rejects.
"$ENGINE" run "$work/small.yaml" --target kubernetes --kubeconfig "$work/throttled.kubeconfig" -n api-it --results "$work/r4" \
  --set timeline.p.load.churn=max --set timeline.p.duration=2s >"$work/r4.out" 2>"$work/r4.err"
rc=$?
s4=$(run_dir "$work/r4")summary.json
cat "$work/r4.out"
throttled=$(metric "$s4" "m['counters'].get('kube.throttled', 0)")
retries=$(metric "$s4" "m['counters'].get('kube.retries', 0)")
created=$(metric "$s4" "m['counters'].get('kube.created', 0)")
echo "429: $throttled throttled answers, $retries retries, $created created"
check "429: the run completes (exit 0 or 1, not an error)" test "$rc" = 0 -o "$rc" = 1
check "429: throttled answers counted" test "$throttled" -gt 0
errors=$(metric "$s4" "m['counters'].get('kube.errors', 0)")
# Retried until the client's attempts run out (then it is an error), as client-go does.
check "429: each was retried, or failed after the last attempt (client-go's rule)" test "$((retries + errors))" -ge "$throttled"
apf_rejected=$(k get --raw /metrics | awk '/^apiserver_flowcontrol_rejected_requests_total\{.*priority_level="kapture-it-reject"/ {n += $2} END {print n + 0}')
echo "the API server counted $apf_rejected rejections at that priority level"
check "429: the engine counted what the API server says it rejected" test "$throttled" = "$apf_rejected"

# ---- custom resources, two client pools, and the per-operation CSV ----
k apply -f - >/dev/null <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.load.kapture.io}
spec:
  group: load.kapture.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
EOF
k wait --for=condition=Established crd/widgets.load.kapture.io --timeout=60s >/dev/null
server=$(k config view --raw -o jsonpath='{.clusters[0].cluster.server}')
cat >"$work/widgets.yaml" <<EOF
name: widget-churn
target: kubernetes
topology:
  kubernetes: { deploy: [] }
workloads:
  widgets:
    type: kube-churn
    object: { resource: widgets.v1.load.kapture.io, size: 256B, name_length: 40, fields: { spec: { color: blue } } }
    lifetime: 1s
    connections: 4
    servers: ["$server"]
    csv: true
timeline:
  - phase: p
    duration: 5s
    load:
      widgets: { rate: 20/s }
expect:
  - count(kube.errors) == 0
EOF
"$ENGINE" run "$work/widgets.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n api-it --results "$work/r6" >"$work/r6.out" 2>"$work/r6.err"
rc=$?
r6=$(run_dir "$work/r6")
cat "$work/r6.out"
check "custom resources: a churn of Widgets passes" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r6.err"
csv=$r6/kube-ops-widgets.csv
check "custom resources: one CSV line per create and delete" \
  test "$(grep -c ',create,' "$csv")/$(grep -c ',delete,' "$csv")" = "$(metric "$r6/summary.json" "'%d/%d' % (m['counters']['kube.created'], m['counters']['kube.deleted'])")"
check "custom resources: names padded to 40 characters" \
  test "$(awk -F, '$3 == "create" {print length($5)}' "$csv" | sort -u)" = 40
check "custom resources: nothing left" test "$(k get widgets.load.kapture.io -n api-it --no-headers 2>/dev/null | wc -l)" = 0

# ---- 5. both planes: the Kafka pipeline and API churn in one run ----
# (The produce latency bound is 5 s here, 1 s in the scenario: CI runs a
# sanitizer build beside 3 JVMs, Redis, PostgreSQL and a control plane on 2 cores.)
"$ENGINE" serve kafka-local --brokers 3 >"$work/kafka.txt" 2>"$work/kafka.err" &
kafka_pid=$!
pids+=("$kafka_pid")
for _ in $(seq 1800); do [ -s "$work/kafka.txt" ] && break; kill -0 "$kafka_pid" 2>/dev/null || break; sleep 0.1; done
bootstrap=$(head -1 "$work/kafka.txt")
"$ENGINE" run "$SRC/scenarios/k8s-api-kafka.yaml" --target kubernetes --kubeconfig "$kubeconfig" --kafka "$bootstrap" --results "$work/r5" \
  --set timeline.steady.duration=20s --set timeline.steady.steps.0.at=10s \
  --set 'expect.2=p99(produce.latency) < 5s during steady' >"$work/r5.out" 2>"$work/r5.err"
rc=$?
r5=$(run_dir "$work/r5")
cat "$work/r5.out"
check "both planes: passes (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r5.err"
check "both planes: the ledger checked every transaction against PostgreSQL" \
  test "$(json "$r5/summary.json" "j['ledger']['verified_against'] == 'postgres' and j['ledger']['checked'] and j['ledger']['acked'] > 3000")" = True
check "both planes: API churn measured in the same report" \
  test "$(metric "$r5/summary.json" "m['counters'].get('kube.created', 0) > 300 and m['histograms']['kube.watch_latency']['count'] > 0")" = True
check "both planes: the partition leader's pod was killed" grep -q '"verb":"pod-kill"' "$r5/events.jsonl"

# ---- 7. the API server restarted under churn (a fault from outside the engine) ----
# The test stops kube-apiserver and starts it again with the same command
# line while a churn runs: requests fail and are retried, the run goes on,
# and summary.json's `faults` records the outage from its start to its end.
# The small churn of section 3, longer (the API server needs 10-20 s to come
# back on a busy machine), with its per-operation CSV; errors are expected.
"$ENGINE" run "$work/small.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n api-it --results "$work/r7" \
  --set timeline.p.duration=45s --set 'timeline.p.load.churn={rate: 10/s}' --set workloads.churn.csv=true \
  --set 'expect.0=count(kube.created) > 0' >"$work/r7.out" 2>"$work/r7.err" &
epid=$!
pids+=("$epid")
ev7=$(wait_for_file "$work/r7/*/events.jsonl" "$epid" 120)
restarted=false
for _ in $(seq 600); do grep -q '"type":"phase_start"' "$ev7" 2>/dev/null && break; kill -0 "$epid" 2>/dev/null || break; sleep 0.1; done
if grep -q '"type":"phase_start"' "$ev7" 2>/dev/null; then
  apid=$(cat "$kdir/pids/kube-apiserver.pid")
  mapfile -d '' apicmd <"/proc/$apid/cmdline"
  sleep 4   # some churn before the fault (not a readiness wait)
  kill -TERM "$apid"
  for _ in $(seq 300); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
  setsid "${apicmd[@]}" >>"$kdir/logs/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$kdir/pids/kube-apiserver.pid"
  for _ in $(seq 600); do k get --raw /readyz >/dev/null 2>&1 && { restarted=true; break; }; sleep 0.2; done
fi
check "API server restart: the API server came back" $restarted
wait "$epid"; rc=$?
cat "$work/r7.out"
check "API server restart: the run goes on and passes (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r7.err"
r7=$(run_dir "$work/r7")
check "API server restart: the results match the schema" /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "$r7"
check "API server restart: faults has the API server's outage, ended" \
  test "$(json "$r7/summary.json" "any(f['dependency'] == 'kubernetes' and f['endpoint'] == '$server' and f['to_s'] is not None and f['failures'] > 0 for f in j['faults'])")" = True
json "$r7/summary.json" "j['faults']"
# Creates the API server accepted after the outage ended (kube-ops-churn.csv:
# wall-clock µs; faults: seconds from the run's start).
after=$(/usr/bin/python3 -c '
import csv, datetime, json, sys
j = json.load(open(sys.argv[1]))
start = datetime.datetime.fromisoformat(j["started"].replace("Z", "+00:00")).timestamp()
end = max(f["to_s"] for f in j["faults"] if f["dependency"] == "kubernetes" and f["to_s"] is not None)
print(sum(1 for r in csv.DictReader(open(sys.argv[2])) if r["verb"] == "create" and r["status"] == "201" and int(r["start_us"]) / 1e6 > start + end))
' "$r7/summary.json" "$r7/kube-ops-churn.csv" 2>/dev/null)
echo "creates after the outage: ${after:-?}"
check "API server restart: creates went on after it" test "${after:-0}" -gt 0
check "API server restart: every object was deleted in the end" \
  test "$(k get configmaps -n api-it -l kapture.io/workload=churn --no-headers 2>/dev/null | wc -l)" = 0

finish
