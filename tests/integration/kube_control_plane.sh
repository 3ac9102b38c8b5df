#!/usr/bin/env bash
# A real Kubernetes control plane on loopback (scripts/kube-up: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok with fake
# nodes): workloads get scheduled and become Running+Ready, a StatefulSet
# scales, a pod deleted with a grace period goes away and is replaced, RBAC
# denies what a Role does not grant, and a restart with KEEP=1 keeps the state.
# The binaries come from scripts/fetch-kube (a long build the first time).
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
: "$ENGINE"

kdir=$work/kube
trap '"$SRC/scripts/kube-down" "$kdir" >/dev/null 2>&1 || true; cleanup' EXIT

cache=${KAPTURE_CACHE:-$HOME/.cache/kapture}
if ls "$cache"/kube-*/.complete >/dev/null 2>&1; then cache_state="binaries cached"; else cache_state="binaries not built yet"; fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
t0=$(now_ms)
kubeconfig=$("$SRC/scripts/kube-up" "$kdir" 2>"$work/kube-up.err" | tail -n 1)
rc=$?
echo "kube-up took $(secs_since "$t0")s (fresh DIR, $cache_state)"
check "kube-up exits 0 and prints the kubeconfig" test "$rc" = 0 -a "$kubeconfig" = "$kdir/kubeconfig"
if [ "$rc" != 0 ] || [ ! -f "$kubeconfig" ]; then cat "$work/kube-up.err"; finish; exit 1; fi
sed 's/^/  /' "$work/kube-up.err"

bin=$("$SRC/scripts/fetch-kube" 2>/dev/null | tail -n 1)
kubectl=$bin/kubectl
k() { "$kubectl" --kubeconfig="$kubeconfig" --request-timeout=30s "$@"; }
ns=kapture-it

check "API server /readyz is ok" test "$(k get --raw /readyz 2>&1)" = ok
ready_nodes() {
  k get nodes -l type=kwok -o jsonpath='{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}{end}' | grep -c '^True$'
}
check "3 fake nodes Ready" test "$(ready_nodes)" = 3
check "fake node capacity is cpu 32, memory 256Gi, pods 110" \
  test "$(k get node kwok-node-0 -o jsonpath='{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods}')" = "32 256Gi 110"

"$SRC/scripts/kube-up" "$kdir" >"$work/again.out" 2>"$work/again.err"
rc=$?
check "a second kube-up on the running DIR refuses" test "$rc" != 0
check "... and says why" grep -q "already has a running control plane" "$work/again.err"

k create namespace "$ns" >/dev/null
k apply -n "$ns" -f - >"$work/apply.out" 2>&1 <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox
        command: ["sleep", "infinity"]
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: db
        image: busybox
        command: ["sleep", "infinity"]
EOF
check "kubectl apply of a Deployment, a headless Service and a StatefulSet" test "$?" = 0 || cat "$work/apply.out"

check "Deployment rolled out (3 replicas)" k rollout status -n "$ns" deployment/web --timeout=120s
check "StatefulSet rolled out (2 replicas)" k rollout status -n "$ns" statefulset/db --timeout=120s
check "all pods Ready" k wait -n "$ns" pod --all --for=condition=Ready --timeout=120s
# The shipped webapp manifest, validated by the API server itself (strict
# field validation, server-side dry run: nothing is created).
check "manifests/webapp.yaml passes the API server's validation (server-side dry run)" \
  k apply -n "$ns" --dry-run=server --validate=strict -f "$SRC/manifests/webapp.yaml"
phases() { k get pods -n "$ns" -l "$1" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
check "3 web pods Running" test "$(phases app=web)" = "Running=3 "
check "2 db pods Running" test "$(phases app=db)" = "Running=2 "
check "pods bound to fake nodes, with pod IPs" \
  test "$(k get pods -n "$ns" -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.podIP}{"\n"}{end}' | grep -cE '^kwok-node-[0-9]+ [0-9.]+$')" = 5

k scale -n "$ns" statefulset/db --replicas=3 >/dev/null
check "StatefulSet scaled to 3" k rollout status -n "$ns" statefulset/db --timeout=120s
check "new StatefulSet pod db-2 Ready" k wait -n "$ns" pod/db-2 --for=condition=Ready --timeout=120s

victim=$(k get pods -n "$ns" -l app=web -o jsonpath='{.items[0].metadata.name}')
uid=$(k get pod -n "$ns" "$victim" -o jsonpath='{.metadata.uid}')
check "delete pod $victim with a 5s grace period" k delete pod -n "$ns" "$victim" --grace-period=5 --wait=false
check "deleted pod is gone" k wait -n "$ns" "pod/$victim" --for=delete --timeout=60s
uid_gone() { ! k get pods -n "$ns" -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}' | grep -qx "$uid"; }
check "... for good (uid $uid not listed)" uid_gone
check "Deployment replaced it (3 available again)" k rollout status -n "$ns" deployment/web --timeout=120s
check "3 web pods Ready, none the deleted one" test "$(k get pods -n "$ns" -l app=web -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep -vxc "$victim")" = 3

# RBAC: a ServiceAccount that may read pods but not delete them.
k create serviceaccount -n "$ns" reader >/dev/null
k create role -n "$ns" pod-reader --verb=get,list,watch --resource=pods >/dev/null
k create rolebinding -n "$ns" reader --role=pod-reader --serviceaccount="$ns:reader" >/dev/null
token=$(k create token -n "$ns" reader --duration=10m)
check "kubectl create token for the ServiceAccount" test -n "$token"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
: >"$work/empty-kubeconfig"
as_reader() {
  "$kubectl" --kubeconfig="$work/empty-kubeconfig" --server="$server" \
    --certificate-authority="$kdir/pki/ca.crt" --token="$token" --request-timeout=30s "$@"
}
check "the ServiceAccount can list pods" as_reader get pods -n "$ns" -o name
target=$(k get pods -n "$ns" -l app=web -o jsonpath='{.items[0].metadata.name}')
as_reader delete pod -n "$ns" "$target" -v=6 >"$work/denied.out" 2>&1
rc=$?
check "deleting a pod as the ServiceAccount fails" test "$rc" != 0
check "... with 403 Forbidden" grep -qE 'verb="DELETE" url="https://[^"]*/namespaces/'"$ns/pods/$target"'(\?[^"]*)?" status="403 Forbidden"' "$work/denied.out"
check "... and a Status with code 403, reason Forbidden" grep -qE '"code": 403|"reason": "Forbidden"' "$work/denied.out"
check "... naming the missing permission" \
  grep -qF "User \"system:serviceaccount:$ns:reader\" cannot delete resource \"pods\" in API group \"\" in the namespace \"$ns\"" "$work/denied.out"
grep -F 'Error from server' "$work/denied.out" | sed 's/^/  /'
check "the pod is still there" k get pod -n "$ns" "$target" -o name

# Stop with KEEP=1 and start again: the same cluster comes back quickly.
component_pids=$(cat "$kdir"/pids/*.pid)
t0=$(now_ms)
KEEP=1 "$SRC/scripts/kube-down" "$kdir" 2>"$work/kube-down.err"
rc=$?
echo "kube-down took $(secs_since "$t0")s"
check "kube-down exits 0" test "$rc" = 0
# Gone: no such process, or a zombie (kill -0 succeeds on zombies, and an
# orphan waits for PID 1 to reap it).
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] || [ ! -s "/proc/$1/cmdline" ]; }
all_gone() { local p; for p in $component_pids; do gone "$p" || return 1; done; ! ls "$kdir"/pids/*.pid >/dev/null 2>&1; }
check "kube-down stopped every component ($(echo $component_pids | wc -w) processes)" all_gone
check "logs kept" test -s "$kdir/logs/kube-apiserver.log"
check "KEEP=1 kept etcd's data" test -d "$kdir/etcd/member"
t0=$(now_ms)
"$SRC/scripts/kube-up" "$kdir" >"$work/kube-up2.out" 2>"$work/kube-up2.err"
rc=$?
echo "kube-up again on the kept DIR took $(secs_since "$t0")s (warm: binaries, certificates and etcd data reused)"
check "kube-up restarts on the kept data" test "$rc" = 0 || cat "$work/kube-up2.err"
check "workloads survived the restart (6 pods)" \
  test "$(k get pods -n "$ns" -o name | wc -l)" = 6
check "... and are Ready" k wait -n "$ns" pod --all --for=condition=Ready --timeout=120s
check "3 fake nodes Ready after the restart" test "$(ready_nodes)" = 3

"$SRC/scripts/kube-down" "$kdir" 2>/dev/null
check "kube-down without KEEP removes etcd's data" test ! -e "$kdir/etcd"
finish
