#!/usr/bin/env bash
# The shipped manifests (manifests/, a kustomize base) on a real control plane
# (scripts/kube-up: etcd, kube-apiserver, controllers, scheduler, kwok's fake
# nodes): they render, pass the API server's strict validation with
# server-side apply, every workload rolls out and every pod becomes Ready, the
# Kafka pods are kafka-0..2 with their labels, the PodDisruptionBudget is
# enforced by the Eviction API, the engine's Role grants what it needs and no
# more (checked with `kubectl auth can-i` and by applying, deleting and
# re-applying the manifests as the ServiceAccount), an overlay overrides
# images, and the two scenario ConfigMaps pass `kapture-engine validate`.
#
# kwok makes pods Running+Ready without running containers: probes, images,
# commands and the Kafka configuration are not executed here (the kafka
# start-up shell is run on its own with a stand-in for the image's
# entrypoint).
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

man=$SRC/manifests
kdir=$work/kube
trap '"$SRC/scripts/kube-down" "$kdir" >/dev/null 2>&1 || true; cleanup' EXIT
py=/usr/bin/python3
# check_show FILE DESCRIPTION COMMAND...: check, and print FILE when it failed.
check_show() {
  local file=$1 before=$failed; shift
  check "$@"
  [ "$failed" = "$before" ] || sed 's/^/  /' "$file" 2>/dev/null
}
quiet() { "$@" >/dev/null; }   # for checks: kubectl's chatter off, its errors kept

# --- the files themselves -----------------------------------------------------
files=(rbac kafka redis postgres etl loader webapp)
headers_ok() {
  local f first
  for f in "${files[@]}" rbac-nodes; do
    first=$(head -n 1 "$man/$f.yaml")
    [ "$first" = "# kapture: component=$f" ] || { echo "  $f.yaml starts with: $first"; return 1; }
  done
}
check "every manifest starts with '# kapture: component=<name>'" headers_ok
# Every document of every file: both labels on the object and on any pod
# template, no namespace, selectors on app.kubernetes.io/name only.
labels_ok() { "$py" - "$man" "${files[@]}" rbac-nodes >"$work/labels.out" 2>&1 <<'EOF'
import sys, yaml
man, names = sys.argv[1], sys.argv[2:]
bad = []
for n in names:
    for d in yaml.safe_load_all(open(f"{man}/{n}.yaml")):
        if not d: continue
        what = f"{n}.yaml {d['kind']}/{d['metadata']['name']}"
        if "namespace" in d["metadata"]: bad.append(f"{what}: has a namespace")
        labels = d["metadata"].get("labels", {})
        if labels.get("app.kubernetes.io/part-of") != "kapture" or not labels.get("app.kubernetes.io/name"):
            bad.append(f"{what}: labels {labels}")
        tpl = d.get("spec", {}).get("template")
        if tpl is not None:
            tl = tpl["metadata"].get("labels", {})
            if tl.get("app.kubernetes.io/part-of") != "kapture" or tl.get("app.kubernetes.io/name") != labels.get("app.kubernetes.io/name"):
                bad.append(f"{what}: pod template labels {tl}")
            sel = d["spec"]["selector"]["matchLabels"]
            if sel != {"app.kubernetes.io/name": labels["app.kubernetes.io/name"]}:
                bad.append(f"{what}: selector {sel}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
check_show "$work/labels.out" "every object and pod template has part-of=kapture and name=<component>, no namespace, selectors on name only" labels_ok
check "kustomization.yaml lists the 7 files in the engine's order, not rbac-nodes.yaml, no namespace" \
  "$py" -c 'import sys, yaml; k = yaml.safe_load(open(sys.argv[1])); sys.exit(0 if k["resources"] == [f + ".yaml" for f in sys.argv[2:]] and "namespace" not in k else 1)' \
  "$man/kustomization.yaml" "${files[@]}"

# --- control plane ------------------------------------------------------------
kubeconfig=$("$SRC/scripts/kube-up" "$kdir" 2>"$work/kube-up.err" | tail -n 1)
rc=$?
check "kube-up exits 0 and prints the kubeconfig" test "$rc" = 0 -a "$kubeconfig" = "$kdir/kubeconfig"
if [ "$rc" != 0 ] || [ ! -f "$kubeconfig" ]; then cat "$work/kube-up.err"; finish; exit 1; fi
bin=$("$SRC/scripts/fetch-kube" 2>/dev/null | tail -n 1)
kubectl=$bin/kubectl
k() { "$kubectl" --kubeconfig="$kubeconfig" --request-timeout=30s "$@"; }
ns=kapture-manifests
sa=system:serviceaccount:$ns:kapture-engine
as_engine() { k --as="$sa" "$@"; }

check_show "$work/kustomize.err" "kubectl kustomize manifests renders" \
  sh -c "'$kubectl' kustomize '$man' >'$work/rendered.yaml' 2>'$work/kustomize.err'"
check "... 18 objects" test "$(grep -c '^kind: ' "$work/rendered.yaml")" = 18

k create namespace "$ns" >/dev/null
apply_all() {  # apply_all KUBECTL-FUNCTION [args...]: server-side apply of the base into $ns
  local kc=$1; shift
  "$kc" apply -k "$man" -n "$ns" --server-side --field-manager=kapture-engine --validate=strict "$@" >"$work/apply.out" 2>&1 \
    || { sed 's/^/  /' "$work/apply.out"; return 1; }
}
check "kubectl apply -k manifests -n $ns --server-side (strict field validation)" apply_all k

# --- rollout --------------------------------------------------------------------
rolled_out() {
  local w
  for w in statefulset/kafka deployment/redis deployment/postgres deployment/kapture-etl \
           deployment/kapture-loader deployment/kapture-webapp; do
    k rollout status -n "$ns" "$w" --timeout=60s >/dev/null || { echo "  $w not rolled out"; return 1; }
  done
}
check "StatefulSet kafka and the 5 Deployments rolled out" rolled_out
check "every pod Ready" quiet k wait -n "$ns" pod --all --for=condition=Ready --timeout=60s
check "8 pods" test "$(k get pods -n "$ns" -o name | wc -l)" = 8

# --- Kafka --------------------------------------------------------------------------
kafka_pods() { k get pods -n "$ns" -l app.kubernetes.io/name=kafka,app.kubernetes.io/part-of=kapture \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort | tr '\n' ' '; }
check "Kafka pods are kafka-0, kafka-1, kafka-2, labelled name=kafka, part-of=kapture" test "$(kafka_pods)" = "kafka-0 kafka-1 kafka-2 "
check "... each with image apache/kafka:4.1.1" \
  test "$(k get pods -n "$ns" -l app.kubernetes.io/name=kafka -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" = apache/kafka:4.1.1
check "StatefulSet: podManagementPolicy Parallel, serviceName kafka-headless" \
  test "$(k get statefulset kafka -n "$ns" -o jsonpath='{.spec.podManagementPolicy} {.spec.serviceName}')" = "Parallel kafka-headless"
check "no volumeClaimTemplates (emptyDir data)" \
  test "$(k get statefulset kafka -n "$ns" -o jsonpath='{.spec.volumeClaimTemplates}{.spec.template.spec.volumes[0].emptyDir}')" = "{}"
check "headless Service kafka-headless: clusterIP None, publishNotReadyAddresses" \
  test "$(k get service kafka-headless -n "$ns" -o jsonpath='{.spec.clusterIP} {.spec.publishNotReadyAddresses}')" = "None true"
check "client Service kafka on 9092" test "$(k get service kafka -n "$ns" -o jsonpath='{.spec.ports[*].port}')" = 9092

# The start-up shell, run for a few ordinals with the StatefulSet's env and a
# stand-in for the image's /etc/kafka/docker/run that prints what it got.
k get statefulset kafka -n "$ns" -o json >"$work/kafka-sts.json"
"$py" - "$work/kafka-sts.json" "$work/kafka-start.sh" "$work/kafka-env.sh" <<'EOF'
import json, shlex, sys
c = json.load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
assert c["command"] == ["/bin/sh", "-ec"], c["command"]
open(sys.argv[2], "w").write(c["args"][0].replace("exec /etc/kafka/docker/run", "env | grep -E '^(KAFKA_NODE_ID|KAFKA_PROCESS_ROLES|KAFKA_LISTENERS|KAFKA_ADVERTISED_LISTENERS|KAFKA_CONTROLLER_QUORUM_VOTERS)=' | sort"))
with open(sys.argv[3], "w") as f:
    for e in c["env"]:
        if "value" in e: f.write(f"export {e['name']}={shlex.quote(e['value'])}\n")
EOF
start_as() {  # start_as ORDINAL: the env the image's entrypoint would get
  env -i PATH=/usr/bin:/bin HOSTNAME="kafka-$1" POD_NAMESPACE="$ns" \
    sh -c ". '$work/kafka-env.sh' && sh -ec \"\$(cat '$work/kafka-start.sh')\"" 2>&1
}
same() { [ "$(cat "$1")" = "$2" ]; }   # same FILE TEXT
voters=1@kafka-0.kafka-headless:9093,2@kafka-1.kafka-headless:9093,3@kafka-2.kafka-headless:9093
start_as 1 >"$work/kafka-1.env"
check_show "$work/kafka-1.env" "kafka-1 starts as node 2, broker+controller, advertising its own DNS name" \
  same "$work/kafka-1.env" "kafka: node.id 2, roles broker,controller, advertised PLAINTEXT://kafka-1.kafka-headless.$ns.svc:9092
KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka-1.kafka-headless.$ns.svc:9092
KAFKA_CONTROLLER_QUORUM_VOTERS=$voters
KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093
KAFKA_NODE_ID=2
KAFKA_PROCESS_ROLES=broker,controller"
start_as 4 >"$work/kafka-4.env"
check_show "$work/kafka-4.env" "kafka-4 (scaled past the 3 voters) starts as node 5, broker only, no controller listener" \
  same "$work/kafka-4.env" "kafka: node.id 5, roles broker, advertised PLAINTEXT://kafka-4.kafka-headless.$ns.svc:9092
KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka-4.kafka-headless.$ns.svc:9092
KAFKA_CONTROLLER_QUORUM_VOTERS=$voters
KAFKA_LISTENERS=PLAINTEXT://:9092
KAFKA_NODE_ID=5
KAFKA_PROCESS_ROLES=broker"

# --- PodDisruptionBudget ----------------------------------------------------------------
check "PodDisruptionBudget kafka: maxUnavailable 1 over name=kafka" \
  test "$(k get pdb kafka -n "$ns" -o jsonpath='{.spec.maxUnavailable} {.spec.selector.matchLabels}')" = '1 {"app.kubernetes.io/name":"kafka"}'
check "... the disruption controller counts 3 healthy, 1 disruption allowed" \
  quiet k wait -n "$ns" pdb/kafka --for=jsonpath='{.status.disruptionsAllowed}'=1 --timeout=60s

# --- RBAC ---------------------------------------------------------------------------------
can() { [ "$(k auth can-i -n "$ns" --as="$sa" "$@" 2>/dev/null)" = yes ]; }
cannot() { [ "$(k auth can-i -n "$ns" --as="$sa" "$@" 2>/dev/null)" = no ]; }
check "the engine can delete pods" can delete pods
check "the engine can create pods/eviction" can create pods --subresource=eviction
check "the engine can patch statefulsets/scale" can patch statefulsets.apps --subresource=scale
check "the engine can update deployments/scale" can update deployments.apps --subresource=scale
check "the engine can patch the postgres Secret" can patch secret/postgres
check "the engine can list events" can list events
check "the engine can NOT delete namespaces (not even its own)" cannot delete "namespace/$ns"
check "the engine can NOT get secrets in kube-system" cannot get secrets -n kube-system
check "the engine can NOT list secrets (even its own namespace's)" cannot list secrets
check "the engine can NOT get another Secret of its namespace" cannot get secret/other
check "the engine can NOT create pods (only its controllers do)" cannot create pods
check "the engine can NOT exec into pods" cannot create pods --subresource=exec
check "the engine can NOT patch nodes without rbac-nodes.yaml" cannot patch nodes
check "the engine can NOT escalate or bind roles" cannot escalate roles
check "the engine can NOT create a RoleBinding to cluster-admin" \
  sh -c "! '$kubectl' --kubeconfig='$kubeconfig' --as='$sa' create rolebinding grab -n '$ns' --clusterrole=cluster-admin --serviceaccount='$ns:kapture-engine' >/dev/null 2>&1"

# Eviction as the engine, through the API. kwok replaces an evicted pod with a
# Ready one at once, so the budget is back to 1 straight away; to see it
# refuse, one broker is marked not Ready (its status patched, as a failing
# readiness probe would) and then evicting another must fail with 429.
evict() {  # evict POD: prints the HTTP status of an Eviction posted as the engine
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"%s"}}' "$1" "$ns" >"$work/eviction.json"
  as_engine create --raw "/api/v1/namespaces/$ns/pods/$1/eviction" -f "$work/eviction.json" -v=6 >"$work/eviction.out" 2>&1
  grep -E '"Response"|^Error|^\{' "$work/eviction.out" >"$work/eviction.short"
  grep -E 'verb="POST" url="[^"]*/pods/'"$1"'/eviction[?"]' "$work/eviction.out" | grep -oE 'status="[0-9]{3}' | cut -d'"' -f2
}
uid_of() { k get pod "$1" -n "$ns" -o jsonpath='{.metadata.uid}'; }
ready2() {  # ready2 True|False: kafka-2's Ready condition, as its readiness probe would set it
  k patch pod kafka-2 -n "$ns" --subresource=status --type=strategic \
    -p '{"status":{"conditions":[{"type":"Ready","status":"'"$1"'"}]}}' >/dev/null
}
budget() { quiet k wait -n "$ns" pdb/kafka --for=jsonpath="{.status.disruptionsAllowed}=$1" --timeout=60s; }
uid0=$(uid_of kafka-0)
check_show "$work/eviction.short" "the engine evicts kafka-0 (201 Created)" test "$(evict kafka-0)" = 201
replaced() {  # a kafka-0 with another uid (polled, 60 s at most), Ready, and the StatefulSet rolled out
  local deadline=$((SECONDS + 60)) uid
  until uid=$(uid_of kafka-0 2>/dev/null) && [ -n "$uid" ] && [ "$uid" != "$uid0" ]; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
  quiet k wait -n "$ns" pod/kafka-0 --for=condition=Ready --timeout=60s &&
    quiet k rollout status -n "$ns" statefulset/kafka --timeout=60s
}
check "... the StatefulSet replaced it (kafka-0 again, a new pod), rolled out" replaced
check "kafka-2 marked not Ready" ready2 False
check "... the budget allows no disruption now" budget 0
uid1=$(uid_of kafka-1)
check_show "$work/eviction.short" "... so evicting kafka-1 is refused (429 Too Many Requests)" test "$(evict kafka-1)" = 429
check "... naming the disruption budget" grep -q "violate the pod's disruption budget" "$work/eviction.out"
check "... and kafka-1 is still the same pod" test "$(uid_of kafka-1)" = "$uid1"
check "kafka-2 Ready again" ready2 True
check "... 1 disruption allowed again" budget 1

# Scale through the subresource as the engine.
check "the engine scales kapture-loader to 3 (deployments/scale)" quiet as_engine scale -n "$ns" deployment/kapture-loader --replicas=3
check "... 3 loader pods Ready" quiet k rollout status -n "$ns" deployment/kapture-loader --timeout=60s
replicas() { k get deployment kapture-loader -n "$ns" -o jsonpath='{.spec.replicas} {.status.readyReplicas}'; }
check "... 3 replicas, 3 ready" test "$(replicas)" = "3 3"

# What the engine does per run, with its own permissions only: re-apply
# (everything there: patch), delete the workloads and their objects
# (teardown), apply again (everything missing: create through apply).
# The scale above made the scale subresource's manager (kubectl) the owner of
# the loader's .spec.replicas, so a plain re-apply conflicts on it: the
# engine's applies must force (they own these objects).
as_engine apply -k "$man" -n "$ns" --server-side --field-manager=kapture-engine >"$work/conflict.out" 2>&1
check_show "$work/conflict.out" "a re-apply after a scale conflicts on .spec.replicas without force" \
  grep -q 'conflict with "kubectl" with subresource "scale".*\.spec\.replicas' "$work/conflict.out"
check "the engine re-applies the manifests server-side with --force-conflicts" apply_all as_engine --force-conflicts
check "... which puts kapture-loader back to 1 replica" \
  quiet k wait -n "$ns" deployment/kapture-loader --for=jsonpath='{.status.replicas}'=1 --timeout=60s
teardown() {
  as_engine delete -n "$ns" --wait=false \
    statefulset/kafka deployment/redis deployment/postgres deployment/kapture-etl deployment/kapture-loader deployment/kapture-webapp \
    service/kafka service/kafka-headless service/redis service/postgres service/kapture-webapp \
    configmap/kapture-etl-scenario configmap/kapture-loader-scenario secret/postgres pdb/kafka >"$work/delete.out" 2>&1 \
    || { sed 's/^/  /' "$work/delete.out"; return 1; }
}
check "the engine deletes its objects (teardown, RBAC kept)" teardown
check "... workloads gone" quiet k wait -n "$ns" statefulset/kafka deployment/kapture-etl --for=delete --timeout=60s
check "the engine applies the manifests again, creating them" apply_all as_engine
check "... rolled out again" rolled_out
check "... every pod Ready" quiet k wait -n "$ns" pod --all --for=condition=Ready --timeout=60s

# Node permissions, opt-in: rbac-nodes.yaml with the subject's namespace set.
sed "s/namespace: kapture /namespace: $ns /" "$man/rbac-nodes.yaml" >"$work/rbac-nodes.yaml"
check "rbac-nodes.yaml applies (server-side, subject namespace set)" \
  quiet k apply --server-side --field-manager=kapture-test --validate=strict -f "$work/rbac-nodes.yaml"
check "... then the engine can patch nodes (cordon)" can patch nodes
check "... and cordon one for real" quiet as_engine cordon kwok-node-0
check "... which is unschedulable" test "$(k get node kwok-node-0 -o jsonpath='{.spec.unschedulable}')" = true
check "... and uncordon it" quiet as_engine uncordon kwok-node-0
check "... but still NOT delete nodes" cannot delete nodes
check "... nor evict pods of other namespaces" cannot create pods --subresource=eviction -n kube-system
k delete -f "$work/rbac-nodes.yaml" --wait=true >/dev/null 2>&1

# --- an overlay ---------------------------------------------------------------------------
mkdir -p "$work/overlay"
cat >"$work/overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: chaos-42
resources:
  - $(realpath --relative-to="$work/overlay" "$man")   # kustomize takes relative paths only
images:
  - name: kapture-engine
    newName: registry.example/kapture-engine
    newTag: v9.9.9
  - name: apache/kafka
    newTag: 4.1.2
labels:
  - pairs: { team: streaming }
    includeSelectors: false
    includeTemplates: true
EOF
check_show "$work/overlay.err" "an overlay with images: newName/newTag renders" \
  sh -c "'$kubectl' kustomize '$work/overlay' >'$work/overlay.yaml' 2>'$work/overlay.err'"
overlay_ok() { "$py" - "$work/overlay.yaml" >"$work/overlay.check" 2>&1 <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
images = {}
for d in docs:
    for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
        images[f"{d['kind']}/{d['metadata']['name']}"] = c["image"]
want = {
    "StatefulSet/kafka": "apache/kafka:4.1.2",
    "Deployment/kapture-etl": "registry.example/kapture-engine:v9.9.9",
    "Deployment/kapture-loader": "registry.example/kapture-engine:v9.9.9",
    "Deployment/kapture-webapp": "registry.example/kapture-engine:v9.9.9",
    "Deployment/redis": "redis:7",
    "Deployment/postgres": "postgres:16",
}
bad = [f"{k}: {images.get(k)} (want {v})" for k, v in want.items() if images.get(k) != v]
for d in docs:
    what = f"{d['kind']}/{d['metadata']['name']}"
    if d["metadata"].get("namespace") != "chaos-42": bad.append(f"{what}: namespace {d['metadata'].get('namespace')}")
    if d["metadata"]["labels"].get("team") != "streaming": bad.append(f"{what}: no overlay label")
    sel = d.get("spec", {}).get("selector", {})
    sel = sel.get("matchLabels", sel) if isinstance(sel, dict) else {}
    if "team" in sel or "app.kubernetes.io/part-of" in sel: bad.append(f"{what}: selector {sel}")
    if d["kind"] == "RoleBinding" and any(s.get("namespace", "chaos-42") != "chaos-42" for s in d["subjects"]): bad.append(f"{what}: subject {d['subjects']}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
check_show "$work/overlay.check" "... engine images registry.example/kapture-engine:v9.9.9, kafka 4.1.2, redis and postgres unchanged, namespace and labels set, selectors untouched" \
  overlay_ok

# --- the scenarios in the ConfigMaps --------------------------------------------------------
# As the pods see them: etl.yaml at /scenario, loader.yaml beside the image's
# /usr/share/kapture/lua (here a link to the project's lua/).
mounted_at() {  # mounted_at DEPLOYMENT: "<args[1]> <mountPath of the ConfigMap volume>/<key>"
  k get deployment "$1" -n "$ns" -o json | "$py" -c '
import json, sys
s = json.load(sys.stdin)["spec"]["template"]["spec"]
vol = next(v for v in s["volumes"] if "configMap" in v)
m = next(m for m in s["containers"][0]["volumeMounts"] if m["name"] == vol["name"])
print(s["containers"][0]["args"][1], vol["configMap"]["name"], m["mountPath"])'
}
check "kapture-etl runs /scenario/etl.yaml from ConfigMap kapture-etl-scenario at /scenario" \
  test "$(mounted_at kapture-etl)" = "/scenario/etl.yaml kapture-etl-scenario /scenario"
check "kapture-loader runs loader.yaml from ConfigMap kapture-loader-scenario beside /usr/share/kapture/lua" \
  test "$(mounted_at kapture-loader)" = "/usr/share/kapture/loader/loader.yaml kapture-loader-scenario /usr/share/kapture/loader"
mkdir -p "$work/root/scenario" "$work/root/usr/share/kapture/loader"
ln -s "$SRC/lua" "$work/root/usr/share/kapture/lua"
k get configmap kapture-etl-scenario -n "$ns" -o jsonpath='{.data.etl\.yaml}' >"$work/root/scenario/etl.yaml"
k get configmap kapture-loader-scenario -n "$ns" -o jsonpath='{.data.loader\.yaml}' >"$work/root/usr/share/kapture/loader/loader.yaml"
check "kapture-engine validate: the ETL scenario" \
  sh -c "'$ENGINE' validate '$work/root/scenario/etl.yaml' >'$work/validate-etl.out' 2>&1"
sed 's/^/  /' "$work/validate-etl.out"
check "... against the existing Kafka at kafka:9092" grep -q "target existing Kafka at kafka:9092" "$work/validate-etl.out"
check "kapture-engine validate: the loader scenario (lua/bigpetstore.lua found above it)" \
  sh -c "'$ENGINE' validate '$work/root/usr/share/kapture/loader/loader.yaml' >'$work/validate-loader.out' 2>&1"
sed 's/^/  /' "$work/validate-loader.out"
"$ENGINE" plan "$work/root/usr/share/kapture/loader/loader.yaml" >"$work/plan-loader.out" 2>&1
check "... its plan creates the three bps.* topics" test "$(grep -cE '^  bps\.(massachusetts|california|texas) +partitions 12, replication 3' "$work/plan-loader.out")" = 3

finish
