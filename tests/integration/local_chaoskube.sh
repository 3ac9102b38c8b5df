#!/usr/bin/env bash
# Real Kafka (local target): scenarios/chaoskube-kafka.yaml with the interval
# shortened: 4 brokers, 12 partitions replicated 4 times, a random broker
# killed on a schedule. The run must report leadership moves, recovery times
# and the producer's delivery delay, and lose nothing.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

"$ENGINE" run "$SRC/scenarios/chaoskube-kafka.yaml" --results "$work/results" --quiet \
  --set timeline.warmup.duration=5s --set timeline.calm.duration=5s --set timeline.chaos.duration=45s \
  --set timeline.chaos.steps.0.every=15s --set timeline.chaos.steps.0.start=3s --set timeline.chaos.steps.0.spacing=31s \
  >"$work/stdout" 2>"$work/stderr"
rc=$?
cat "$work/stdout"
summary=$(ls "$work"/results/*/summary.json 2>/dev/null | head -1)
check "summary written" test -n "$summary"
[ -n "$summary" ] || { cat "$work/stderr"; finish; exit 1; }
dir=$(dirname "$summary")
json "$summary" "'\n'.join('FAILED EXPECTATION: %s measured %s' % (e['expect'], e['measured_text']) for e in j['expectations'] if not e['pass'])"
check "exit 0" test "$rc" = 0
check "three kills of distinct brokers" test "$(json "$summary" "len({c['details']['broker'] for c in j['chaos'] if c['verb'] == 'broker-kill'})")" = 3
check "leadership moves reported" test "$(/usr/bin/python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["type"] == "leaders_recovered" and json.loads(l)["leaders_moved"]))' "$dir/events.jsonl")" -ge 2
check "leader recovery time measured" test "$(json "$summary" "j['run']['histograms']['kafka.leader_recovery']['count'] >= 2")" = True
check "delivery delay during chaos reported" test "$(json "$summary" "[p for p in j['phases'] if p['name'] == 'chaos'][0]['metrics']['latency']['count'] > 0")" = True
check "four brokers seen by the observer" test "$(json "$summary" "j['run']['gauges']['kafka.brokers']['max']")" = 4.0
check "nothing acknowledged was lost" test "$(json "$summary" "j['ledger']['lost']")" = 0
finish
