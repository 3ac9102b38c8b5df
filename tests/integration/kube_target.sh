#!/usr/bin/env bash
# The kubernetes target against a real control plane (scripts/kube-up: etcd,
# kube-apiserver with RBAC, controller-manager, scheduler, kwok's fake nodes)
# and real Kafka brokers on loopback (serve kafka-local), which the engine
# reaches with --kafka as it would a port-forward:
#   - scenarios/k8s-chaos.yaml deploys rbac, Kafka and Redis from manifests/
#     (everything rolled out), kills the pod leading orders/0 (the leader Kafka
#     names), scales the Kafka StatefulSet 3 -> 4 (a kubectl watch sees
#     kafka-3 come and go and the killed pod deleted), evicts Redis, cordons a
#     node, and at the end restores the scale, uncordons and deletes its namespace;
#   - SIGINT: the scale is restored, then the namespace deleted;
#   - every component of manifests/ deployed in order and kept (--keep), then `down`;
#   - kill -9 mid-run: `recover RESULTS_DIR` replays the pending undos;
#   - a token whose Role lacks `delete pods` gets the API's 403, naming it;
#   - chaos in a namespace without kapture.io/chaos=allowed is refused before
#     anything changes; `plan` names the pods a step would hit, read-only;
#   - `workers: 2`: the Indexed Job of worker pods is created (and passes a
#     strict server-side dry-run), kwok's pods never report, the run names
#     the pod that ended and exits 3, and the Job goes with the namespace.
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

# Real brokers with node ids 1..3, as the manifests number them (ordinal + 1).
"$ENGINE" serve kafka-local --brokers 3 >"$work/kafka.txt" 2>"$work/kafka.err" &
kafka_pid=$!
pids+=("$kafka_pid")
for _ in $(seq 1800); do [ -s "$work/kafka.txt" ] && break; kill -0 "$kafka_pid" 2>/dev/null || break; sleep 0.1; done
bootstrap=$(head -1 "$work/kafka.txt")
if [ -z "$bootstrap" ]; then cat "$work/kafka.err"; echo "FAIL local Kafka did not start"; exit 1; fi

kube_args=(--target kubernetes --kubeconfig "$kubeconfig" --kafka "$bootstrap")
events_of() { cat "$1"/events.jsonl; }
ev() {  # ev DIR PYTHON-EXPR over the list of events `e`
  /usr/bin/python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1]+"/events.jsonl")]; print(eval(sys.argv[2]))' "$1" "$2"
}
ns_gone() { ! k get namespace "$1" >/dev/null 2>&1; }
wait_event() {  # wait_event DIR TYPE PID SECONDS: until events.jsonl has an event of TYPE
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    grep -q "\"type\":\"$2\"" "$1"/events.jsonl 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# ---- 1. the shipped scenario, whole ----
ns=k8s-it
# No --request-timeout: the watch lasts the whole run.
"$bin/kubectl" --kubeconfig="$kubeconfig" get pods -n "$ns" --watch --output-watch-events -o jsonpath='{.type} {.object.metadata.name}{"\n"}' >"$work/watch.txt" 2>"$work/watch.err" &
watch_pid=$!
pids+=("$watch_pid")
"$ENGINE" run "$SRC/scenarios/k8s-chaos.yaml" "${kube_args[@]}" -n "$ns" --results "$work/r1" >"$work/r1.out" 2>"$work/r1.err"
rc=$?
kill "$watch_pid" 2>/dev/null
r1=$(ls -d "$work"/r1/*/ | head -1)
cat "$work/r1.out"
check "k8s-chaos passes (exit 0)" test "$rc" = 0
[ "$rc" = 0 ] || tail -30 "$work/r1.err"
check "rbac, kafka and redis deployed, each rolled out" test "$(ev "$r1" "[x['component'] for x in e if x['type']=='kube_deployed']")" = "['rbac', 'kafka', 'redis']"
killed=$(ev "$r1" "[x['details']['pods'] for x in e if x['type']=='chaos_inject' and x['verb']=='pod-kill'][0]")
# No real broker was hurt (kwok's pods run nothing), so Kafka still names
# the leader the step asked for.
lead_pod=kafka-$(( $(kcat -b "$bootstrap" -L -t orders -J | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
print([p["leader"] for t in j["topics"] if t["topic"] == "orders" for p in t["partitions"] if p["partition"] == 0][0])') - 1 ))
echo "leader-kill hit $killed; orders/0 was led by $lead_pod"
check "pod-kill leader_of hit the pod of the broker leading orders/0" test "$killed" = "['$lead_pod']"
check "the watch saw that pod deleted" grep -qx "DELETED ${lead_pod}" "$work/watch.txt"
check "scale step 3 -> 4 recorded" test "$(ev "$r1" "[(x['details']['from'], x['details']['to']) for x in e if x['type']=='scale']")" = "[(3, 4)]"
check "the watch saw kafka-3 created by the scale-up" grep -qx "ADDED kafka-3" "$work/watch.txt"
check "... and deleted by the restore at the end" grep -qx "DELETED kafka-3" "$work/watch.txt"
check "redis evicted" test "$(ev "$r1" "len([x for x in e if x['type']=='chaos_inject' and x['verb']=='pod-evict' and x['details']['pods']])")" = 1
check "a node cordoned, then uncordoned" test "$(ev "$r1" "[x['ok'] for x in e if x['type']=='chaos_undo' and x['verb']=='node-cordon']")" = "[True]"
check "no node left unschedulable" test -z "$(k get nodes -o jsonpath='{.items[*].spec.unschedulable}')"
check "the chaoskube-style pod-kill hit one kafka pod" test "$(ev "$r1" "len([x for x in e if x['type']=='chaos_inject' and x['verb']=='pod-kill'])")" = 2
random_kill=$(ev "$r1" "[x['details']['pods'][0] for x in e if x['type']=='chaos_inject' and x['verb']=='pod-kill'][1]")
check "the watch saw that pod ($random_kill) deleted too" grep -qx "DELETED $random_kill" "$work/watch.txt"
journal_states() {
  /usr/bin/python3 -c 'import json,sys
st = {}
for l in open(sys.argv[1] + "/undo-journal.jsonl"):
    j = json.loads(l); st[j["id"]] = j["state"]
print(sorted(set(st.values())))' "$1"
}
check "the undo journal settled every entry" test "$(journal_states "$r1")" = "['done']"
check "the run's namespace is deleted" ns_gone "$ns"

# ---- 2. SIGINT: the scale restored, then what the run created deleted ----
"$ENGINE" run "$SRC/scenarios/k8s-chaos.yaml" "${kube_args[@]}" -n k8s-int --results "$work/r2" >"$work/r2.out" 2>"$work/r2.err" &
run_pid=$!
pids+=("$run_pid")
until r2=$(ls -d "$work"/r2/*/ 2>/dev/null | head -1) && [ -n "$r2" ]; do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
check "the second run reaches its scale step" wait_event "$r2" scale "$run_pid" 240
check "kafka runs 4 replicas before the interrupt" test "$(k get statefulset kafka -n k8s-int -o jsonpath='{.spec.replicas}')" = 4
kill -INT "$run_pid"
wait "$run_pid"
rc=$?
check "SIGINT: exit 130" test "$rc" = 130
undone_order() {
  /usr/bin/python3 -c 'import json,sys
done = [json.loads(l)["undo"].split()[0] for l in open(sys.argv[1] + "/undo-journal.jsonl") if json.loads(l)["state"] == "done"]
print(" ".join(w for w in done if w in ("scale", "delete")))' "$1"
}
order=$(undone_order "$r2")
check "SIGINT: the scale was restored, then the namespace deleted ($order)" test "$order" = "scale delete"
check "SIGINT: the run's namespace is gone" ns_gone k8s-int

# ---- every component of manifests/, deployed and kept with --keep; `down` removes it ----
cat >"$work/all.yaml" <<EOF
name: all-components
target: kubernetes
topology:
  kubernetes:
    manifests: $SRC/manifests
    deploy: [webapp, loader, etl, postgres, redis, kafka, rbac]
    replicas: { loader: 2 }
timeline:
  - phase: p
    duration: 1s
EOF
"$ENGINE" run "$work/all.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n k8s-all --keep --results "$work/rall" >"$work/rall.out" 2>"$work/rall.err"
rc=$?
rall=$(ls -d "$work"/rall/*/ | head -1)
check "all components: the run passes" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/rall.err"
check "all components deployed in dependency order, each rolled out" \
  test "$(ev "$rall" "' '.join(x['component'] for x in e if x['type']=='kube_deployed')")" = "rbac kafka redis postgres etl loader webapp"
check "every Deployment and the StatefulSet are ready in the kept namespace" \
  test "$(k get deploy,statefulset -n k8s-all -o jsonpath='{range .items[*]}{.metadata.name}={.status.readyReplicas}/{.spec.replicas} {end}')" = \
  "kapture-etl=1/1 kapture-loader=2/2 kapture-webapp=1/1 postgres=1/1 redis=1/1 kafka=3/3 "
check "--keep: the namespace stays" k get namespace k8s-all
"$ENGINE" down k8s-all --kubeconfig "$kubeconfig" >"$work/down.out" 2>&1
cat "$work/down.out"
check "down removes the kept namespace" ns_gone k8s-all

# ---- 3. kill -9 mid-run: recover replays what was pending ----
"$ENGINE" run "$SRC/scenarios/k8s-chaos.yaml" "${kube_args[@]}" -n k8s-crash --results "$work/r3" >"$work/r3.out" 2>"$work/r3.err" &
run_pid=$!
until r3=$(ls -d "$work"/r3/*/ 2>/dev/null | head -1) && [ -n "$r3" ]; do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
check "the third run reaches its scale step" wait_event "$r3" scale "$run_pid" 240
kill -KILL "$run_pid"
wait "$run_pid" 2>/dev/null
check "after kill -9 the namespace and the scale are left behind" test "$(k get statefulset kafka -n k8s-crash -o jsonpath='{.spec.replicas}')" = 4
"$ENGINE" recover "$r3" --kubeconfig "$kubeconfig" >"$work/recover.out" 2>&1
rc=$?
cat "$work/recover.out"
check "recover exits 0" test "$rc" = 0
check "recover restored the scale first, then deleted the namespace" \
  test "$(grep -o '^done   #[0-9]* [a-z]*' "$work/recover.out" | awk '{print $3}' | tr '\n' ' ')" = "scale delete "
check "the crashed run's namespace is gone" ns_gone k8s-crash
"$ENGINE" recover "$r3" --kubeconfig "$kubeconfig" >"$work/recover2.out" 2>&1
check "a second recover finds nothing pending" grep -q "nothing pending" "$work/recover2.out"

# ---- 4. and 5. RBAC and namespace safety, with a small scenario of its own ----
cat >"$work/pods.yaml" <<'EOF'
name: pods-only
target: kubernetes
topology:
  kubernetes: { deploy: [] }
timeline:
  - phase: p
    duration: 4s
    steps:
      - { at: 1s, chaos: pod-kill, pods: { selector: app=web } }
      - { at: 2s, chaos: pod-evict, pods: { selector: app=web }, dry_run: true }
EOF
k create namespace team-a >/dev/null
k label namespace team-a kapture.io/chaos=allowed >/dev/null
k create namespace plain >/dev/null
for n in team-a plain; do k create deployment web --image=busybox --replicas=2 -n "$n" >/dev/null; done
k rollout status deployment/web -n team-a --timeout=60s >/dev/null
k rollout status deployment/web -n plain --timeout=60s >/dev/null
k create serviceaccount viewer -n team-a >/dev/null
k create role pod-reader --verb=get,list,watch --resource=pods,namespaces -n team-a >/dev/null
k create rolebinding viewer --role=pod-reader --serviceaccount=team-a:viewer -n team-a >/dev/null
k create clusterrole ns-reader --verb=get --resource=namespaces >/dev/null
k create clusterrolebinding viewer-ns --clusterrole=ns-reader --serviceaccount=team-a:viewer >/dev/null
token=$(k create token viewer -n team-a)
server=$(k config view --raw -o jsonpath='{.clusters[0].cluster.server}')
k config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$work/ca.crt"
cat >"$work/viewer.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: it, cluster: {server: "$server", certificate-authority: "$work/ca.crt"}}]
users: [{name: viewer, user: {token: "$token"}}]
contexts: [{name: viewer, context: {cluster: it, user: viewer}}]
current-context: viewer
EOF
"$ENGINE" run "$work/pods.yaml" --target kubernetes --kubeconfig "$work/viewer.kubeconfig" -n team-a --results "$work/r4" >"$work/r4.out" 2>"$work/r4.err"
rc=$?
check "a token without delete on pods: the run stops with an error (exit 3)" test "$rc" = 3
check "... with the API's 403 naming the verb and the resource" grep -q 'DELETE /api/v1/namespaces/team-a/pods/web-[^ ]*: 403.*cannot delete resource .*pods' "$work/r4.out" "$work/r4.err"
check "... and the secret token is in no result file" test -z "$(grep -rlF "$token" "$work/r4" "$work/r4.out" "$work/r4.err")"
check "both web pods of team-a still there" test "$(k get pods -n team-a -l app=web --no-headers | wc -l)" = 2

"$ENGINE" run "$work/pods.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n plain --results "$work/r5" >"$work/r5.out" 2>"$work/r5.err"
rc=$?
check "chaos in an unlabelled namespace: refused (exit 3: the target could not be set up)" test "$rc" = 3
check "... saying which label is missing" grep -q "no label kapture.io/chaos=allowed" "$work/r5.err"
check "... before touching anything" test "$(k get pods -n plain -l app=web --no-headers | wc -l)" = 2

"$ENGINE" plan "$work/pods.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n plain --seed 3 >"$work/plan.out" 2>&1
rc=$?
cat "$work/plan.out"
pods_before=$(k get pods -n plain -l app=web -o jsonpath='{.items[*].metadata.name}')
check "plan against the cluster names the pod it would hit" grep -qE "pod-kill pods app=web: 2 running in plain, would hit web-" "$work/plan.out"
check "... and changes nothing" test "$rc" = 0 -a "$(k get pods -n plain -l app=web -o jsonpath='{.items[*].metadata.name}')" = "$pods_before"
"$ENGINE" run "$work/pods.yaml" --target kubernetes --kubeconfig "$kubeconfig" -n plain --allow-namespace plain --results "$work/r6" >"$work/r6.out" 2>"$work/r6.err"
check "--allow-namespace plain lets the same run kill a web pod" test "$(ev "$(ls -d "$work"/r6/*/)" "len([x for x in e if x['type']=='chaos_inject' and x['verb']=='pod-kill' and x['details']['pods']])")" = 1
check "... and a dry-run pod-evict named a pod without evicting it" \
  test "$(ev "$(ls -d "$work"/r6/*/)" "[x['description'].endswith('would be evicted (dry run) in plain') and x['details']['dry_run'] for x in e if x['type']=='chaos_inject' and x['verb']=='pod-evict']")" = "[True]"
check "... and a namespace the run did not create is kept" k get namespace plain

# ---- 6. distributed load: the Indexed Job of worker pods ----
# kwok runs no container (its Job pods go straight to Succeeded), so no
# worker ever reports: the run must say which pod ended before it was ready
# and stop with exit 3; the Job it created must be valid (a strict
# server-side dry-run of RESULTS/workers/job.json) and gone afterwards.
# The generator beside the scenario, as the workers' ConfigMap mounts it.
mkdir -p "$work/lua" && cp "$SRC/lua/bigpetstore.lua" "$work/lua/"
cat >"$work/dist.yaml" <<EOF
name: dist-k8s
target: kubernetes
workers: 2
topology:
  kubernetes:
    deploy: []
    ready_timeout: 20s
    images: { workers: "kapture-engine:test" }
    resources: { workers: { requests: { cpu: 500m, memory: 256Mi } } }
  kafka:
    topics:
      - { name: dist, partitions: 3, replication_factor: 3 }
workloads:
  orders:
    type: kafka-producer
    topic: dist
    generator: { lua: lua/bigpetstore.lua }
timeline:
  - phase: p
    duration: 5s
    load: { orders: 100/s }
EOF
"$ENGINE" run "$work/dist.yaml" "${kube_args[@]}" -n k8s-dist --results "$work/rd" >"$work/rd.out" 2>"$work/rd.err"
rc=$?
rd=$(ls -d "$work"/rd/*/ | head -1)
cat "$work/rd.out"; tail -3 "$work/rd.err"
check "workers on kwok: exit 3 (no worker can start)" test "$rc" = 3
check "workers on kwok: the message names a worker pod of the Job and how it ended" \
  grep -q 'worker [01] of 2 pod kapture-workers-dist-k8s-.* ended: Succeeded' "$work/rd.out" "$work/rd.err"
check "workers on kwok: the Job was created" test "$(ev "$rd" "len([x for x in e if x['type']=='workers_launched' and x['workers']==2])")" = 1
check "job.json: an Indexed Job of 2, no retries, the image and resources asked for" \
  test "$(json "$rd/workers/job.json" "[(x['spec']['completionMode'], x['spec']['completions'], x['spec']['parallelism'], x['spec']['backoffLimit'], x['spec']['template']['spec']['containers'][0]['image'], x['spec']['template']['spec']['containers'][0]['resources']['requests']['cpu']) for x in j['items'] if x['kind']=='Job']")" = "[('Indexed', 2, 2, 0, 'kapture-engine:test', '500m')]"
check "job.json: the ConfigMap holds the scenario and its generator at lua/bigpetstore.lua" \
  test "$(json "$rd/workers/job.json" "[[i['path'] for i in x['spec']['template']['spec']['volumes'][0]['configMap']['items']] for x in j['items'] if x['kind']=='Job'][0]")" = "['dist.yaml', 'lua/bigpetstore.lua']"
check "job.json: pod i runs worker --index \$(JOB_COMPLETION_INDEX), the scenario from its ConfigMap" \
  test "$(json "$rd/workers/job.json" "[x['spec']['template']['spec']['containers'][0]['args'][:4] for x in j['items'] if x['kind']=='Job'][0]")" = "['worker', '/usr/share/kapture/run/dist.yaml', '--index', '\$(JOB_COMPLETION_INDEX)']"
k create namespace k8s-dry >/dev/null 2>&1
/usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for x in j["items"]: x["metadata"]["namespace"] = "k8s-dry"
json.dump(j, open(sys.argv[2], "w"))' "$rd/workers/job.json" "$work/job-dry.json"
check "job.json passes a strict server-side dry-run" k apply -n k8s-dry --dry-run=server --validate=strict -f "$work/job-dry.json"
check "workers on kwok: the run's namespace and its Job are gone afterwards" ns_gone k8s-dist
k delete namespace k8s-dry --wait=false >/dev/null 2>&1

finish
