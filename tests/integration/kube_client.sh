#!/usr/bin/env bash
# The engine's Kubernetes API client (tests/kube, kube_client_tests) against a
# real control plane from scripts/kube-up: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods
# become Running+Ready).
set -uo pipefail
ENGINE=$1
SRC=$2
TESTS=$3
. "$SRC/tests/integration/lib.sh"
: "$ENGINE"

kdir=$work/kube
trap '"$SRC/scripts/kube-down" "$kdir" >/dev/null 2>&1 || true; cleanup' EXIT

start=$SECONDS
kubeconfig=$("$SRC/scripts/kube-up" "$kdir" 2>"$work/kube-up.err" | tail -n 1)
rc=$?
check "kube-up exits 0 and prints the kubeconfig" test "$rc" = 0 -a -f "$kubeconfig"
if [ "$rc" != 0 ] || [ ! -f "$kubeconfig" ]; then cat "$work/kube-up.err"; finish; exit 1; fi
echo "control plane up in $((SECONDS - start))s"

start=$SECONDS
KAPTURE_TEST_KUBECONFIG=$kubeconfig "$TESTS" >"$work/tests.txt" 2>&1
rc=$?
cat "$work/tests.txt"
echo "kube_client_tests took $((SECONDS - start))s"
check "kube_client_tests against the control plane" test "$rc" = 0

# Without the kubeconfig the binary fails: a missing cluster is not a pass.
env -u KAPTURE_TEST_KUBECONFIG "$TESTS" -tc='get of a missing object*' >"$work/no-env.txt" 2>&1
check "kube_client_tests without KAPTURE_TEST_KUBECONFIG fails" test "$?" != 0
check "... saying why" grep -q "KAPTURE_TEST_KUBECONFIG is not set" "$work/no-env.txt"
finish
