#!/usr/bin/env bash
# Faults in the engine's own dependencies, made from outside the engine (the
# test, not a chaos step, does them): a Kafka broker paused with SIGSTOP
# while the producer writes with acks=all. The run goes on, records the
# outage (summary.json `faults`, events dependency_down/up), loses nothing
# it had acknowledged, and its results are valid. Stopped (SIGTERM) while the
# broker is still paused, the run still writes valid results that say the
# broker was down until the end.
# (Redis and PostgreSQL restarted or paused under the ETL: etl_ledger.sh;
# the API server restarted under API churn: kube_api_load.sh.)
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

# descendant_brokers PID: the Kafka broker JVMs the engine started.
descendant_brokers() {
  local p kids
  kids=$(pgrep -P "$1" || true)
  for p in $kids; do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'kafka.Kafka'; then echo "$p"; fi
    descendant_brokers "$p"
  done
}

# wait_event FILE PID SECONDS PYTHON-EXPR: readiness by the engine's own
# event log: waits for an event `e` for which the expression holds.
wait_event() {
  local file=$1 pid=$2 deadline=$((SECONDS + $3)) expr=$4
  while [ $SECONDS -lt $deadline ]; do
    /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if eval(sys.argv[2]): sys.exit(0)
sys.exit(1)' "$file" "$expr" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
steady="e['type'] == 'phase_start' and e['phase'] == 'steady'"
kafka_down="e['type'] == 'dependency_down' and e['dependency'] == 'kafka'"

paused=""
trap '[ -n "$paused" ] && kill -CONT $paused 2>/dev/null; [ -n "${KEEP_WORK:-}" ] && { echo "work: $work"; exit; }; cleanup' EXIT

# ---- 1. a broker paused for 12 s in the middle of the steady phase ----
"$ENGINE" run "$F/broker-pause.yaml" --results "$work/r1" >"$work/r1.out" 2>"$work/r1.err" &
epid=$!
pids+=("$epid")
events=$(wait_for_file "$work/r1/*/events.jsonl" "$epid" 300)
check "pause: the run started" test -n "$events"
if [ -n "$events" ] && wait_event "$events" "$epid" 300 "$steady"; then
  brokers=($(descendant_brokers "$epid"))
  check "pause: three broker JVMs under the engine" test "${#brokers[@]}" = 3
  victim=${brokers[1]}
  sleep 3   # a few seconds of steady load before the fault (not a readiness wait)
  kill -STOP "$victim"; paused=$victim
  echo "paused broker JVM $victim"
  # The fault is what the engine must notice: wait until it says so, then
  # keep the broker paused a little longer so leadership has moved.
  check "pause: the engine records the broker as down while it is paused" \
    wait_event "$events" "$epid" 30 "$kafka_down"
  sleep 6   # the outage itself: the broker stays paused 6 s more
  kill -CONT "$victim"; paused=""
  wait "$epid"; rc=$?
else
  rc=99
  kill -TERM "$epid" 2>/dev/null; wait "$epid"
fi
cat "$work/r1.out"
check "pause: the run passes (exit 0): nothing acknowledged was lost" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$work/r1.err"
s1=$(ls "$work"/r1/*/summary.json 2>/dev/null | head -1)
check "pause: summary.json written" test -n "$s1"
if [ -n "$s1" ]; then
  check "pause: the results match the schema" /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "$(dirname "$s1")"
  check "pause: faults lists a Kafka broker outage that ended" \
    test "$(json "$s1" "any(f['dependency'] == 'kafka' and f['to_s'] is not None and f['duration_s'] > 0 and '/' in f['endpoint'] for f in j['faults'])")" = True
  check "pause: the ledger was checked and is clean" \
    test "$(json "$s1" "j['ledger']['checked'] and j['ledger']['lost'] == 0 and j['ledger']['duplicates'] == 0 and j['ledger']['acked'] > 3000")" = True
  check "pause: the outage is in the event log, down then up" \
    /usr/bin/python3 -c "
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
down = [e for e in ev if e['type'] == 'dependency_down' and e['dependency'] == 'kafka']
up = [e for e in ev if e['type'] == 'dependency_up' and e['dependency'] == 'kafka']
sys.exit(0 if down and up and any(u['endpoint'] == d['endpoint'] and u['t'] > d['t'] for d in down for u in up) else 1)" "$(dirname "$s1")/events.jsonl"
  check "pause: summary.md has the outage" grep -q '^## Dependency outages' "$(dirname "$s1")/summary.md"
fi

# ---- 2. SIGTERM while a broker is still paused ----
"$ENGINE" run "$F/broker-pause.yaml" --results "$work/r2" >"$work/r2.out" 2>"$work/r2.err" &
epid=$!
pids+=("$epid")
events=$(wait_for_file "$work/r2/*/events.jsonl" "$epid" 300)
rc=99
if [ -n "$events" ] && wait_event "$events" "$epid" 300 "$steady"; then
  brokers=($(descendant_brokers "$epid"))
  victim=${brokers[0]}
  kill -STOP "$victim"; paused=$victim
  if wait_event "$events" "$epid" 30 "$kafka_down"; then
    kill -TERM "$epid"
  fi
  # The engine stops its brokers itself: a stopped JVM must be let go first.
  kill -CONT "$victim"; paused=""
  wait "$epid"; rc=$?
fi
check "paused broker + SIGTERM: exit 130" test "$rc" = 130
s2=$(ls "$work"/r2/*/summary.json 2>/dev/null | head -1)
check "paused broker + SIGTERM: summary.json written" test -n "$s2"
if [ -n "$s2" ]; then
  check "paused broker + SIGTERM: the results match the schema" /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "$(dirname "$s2")"
  check "paused broker + SIGTERM: the outage is recorded (until the end or its end)" \
    test "$(json "$s2" "any(f['dependency'] == 'kafka' for f in j['faults']) and j['verdict']['interrupted']")" = True
  check "paused broker + SIGTERM: what was measured is kept" \
    test "$(json "$s2" "j['run']['counters']['produce.acked'] > 0")" = True
fi
finish
