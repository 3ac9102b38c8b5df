#!/usr/bin/env bash
# Exit codes and messages the README documents, each provoked for real.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

run() {  # run NAME ARGS...: runs the engine, keeps stdout/stderr, returns its exit code
  local name=$1; shift
  "$ENGINE" "$@" >"$work/$name.out" 2>"$work/$name.err"
}
has() { grep -qF -- "$2" "$work/$1.out" "$work/$1.err"; }

run version --version; check "--version exits 0" test $? = 0
check "--version prints the version" has version "kapture-engine 0."
run help --help; check "--help exits 0 and shows examples" has help "Examples:"
run nofile validate "$work/nope.yaml"; rc=$?
check "missing scenario file: exit 2" test $rc = 2
check "missing scenario file: names the file" has nofile "$work/nope.yaml: cannot read scenario file"
run bad validate "$F/bad.yaml"; rc=$?
check "bad duration: exit 2" test $rc = 2
check "bad duration: file:line:column" has bad "$F/bad.yaml:4:15: bad duration '10 sec'"
run badset validate "$F/small.yaml" --set timeline.nope.duration=1s; rc=$?
check "bad --set path: exit 2" test $rc = 2
check "bad --set path: says which" has badset "no item named 'nope'"
run badtarget validate "$F/small.yaml" --target mars; rc=$?
check "unknown target: exit 2" test $rc = 2

run mapping validate "$F/etl.yaml" --set 'workloads.etl.transform={fields: {state: store.location.state}}'; rc=$?
check "field mapping with the postgres sink: exit 2" test $rc = 2
check "field mapping with the postgres sink: says why" has mapping "a field mapping makes flat records"

# Chaos needs control over the brokers: an existing cluster has none.
run refused validate "$F/small.yaml" --kafka 127.0.0.1:9; rc=$?
check "chaos on --kafka refused: exit 2" test $rc = 2
check "chaos on --kafka refused: names the step" has refused "small.yaml:22:9: step 'broker-down' is not available on the existing Kafka"

# Nothing listens on port 9: the target cannot be reached.
run unreachable run "$F/no-chaos.yaml" --kafka 127.0.0.1:9 --results "$work/r-unreach" --quiet; rc=$?
check "unreachable Kafka: exit 3" test $rc = 3
check "unreachable Kafka: names the endpoint" has unreachable "Kafka at 127.0.0.1:9"
check "unreachable Kafka: a summary is still written" test -n "$(ls "$work"/r-unreach/*/summary.json 2>/dev/null)"

# A passing short run, then the same with an impossible threshold.
run pass run "$F/small.yaml" --results "$work/r-pass" --quiet; rc=$?
check "small scenario passes: exit 0" test $rc = 0
run fail run "$F/small.yaml" --results "$work/r-fail" --set 'expect=["p99(produce.latency) < 1us"]'; rc=$?
check "impossible expectation: exit 1" test $rc = 1
check "impossible expectation: FAIL row" has fail "FAIL   p99(produce.latency) < 1us"

# A Lua error in the middle of the run.
run luafail run "$F/small.yaml" --results "$work/r-lua" --quiet --set workloads.w.generator.lua=fails-midrun.lua; rc=$?
check "Lua error mid-run: exit 2" test $rc = 2
check "Lua error mid-run: file and line" has luafail "fails-midrun.lua:5: record 500 is poisoned"
s=$(ls "$work"/r-lua/*/summary.json 2>/dev/null)
check "Lua error mid-run: results still written" test -n "$s"
[ -n "$s" ] && check "Lua error mid-run: the 500 records sent are in the summary" test "$(json "$s" "j['run']['counters']['produce.sent']")" -ge 500

# The generator cannot keep 5000/s: the run measured itself.
run slow run "$F/small.yaml" --results "$work/r-slow" --quiet --set workloads.w.generator.lua=slow.lua \
  --set 'timeline.load.load.w={rate: 5000/s}' --set timeline.load.duration=2s; rc=$?
check "generator behind its rate: exit 4" test $rc = 4
check "generator behind its rate: says so" has slow "INVALID: the load generator fell behind"

# SIGINT in the middle of the chaos phase: injections undone, partial results, 130.
"$ENGINE" run "$F/small.yaml" --results "$work/r-int" --set timeline.chaos.duration=30s \
  --set timeline.chaos.steps.0.for=20s >"$work/int.out" 2>"$work/int.err" &
pid=$!
pids+=("$pid")
ev=$(wait_for_file "$work/r-int/*/events.jsonl" "$pid" 60)
deadline=$((SECONDS + 60))
until grep -q '"type":"chaos_inject"' "$ev" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
kill -INT "$pid"
wait "$pid"; rc=$?
check "SIGINT: exit 130" test $rc = 130
s=$(ls "$work"/r-int/*/summary.json 2>/dev/null)
check "SIGINT: summary written" test -n "$s"
[ -n "$s" ] && check "SIGINT: marked interrupted" test "$(json "$s" "j['verdict']['interrupted']")" = True
[ -n "$s" ] && check "SIGINT: the broker-down was undone" test "$(json "$s" "j['chaos'][0]['undone']")" = True
check "SIGINT: the undo is in the event log" grep -q '"type":"chaos_undo"' "$ev"
finish
