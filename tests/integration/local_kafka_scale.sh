#!/usr/bin/env bash
# Real Kafka (local target): pausing the active controller, a graceful stop, a
# dry run, and scale steps (a broker added, partitions added), each seen in
# the cluster's own metadata afterwards; then what validation refuses.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
fixtures="$SRC/tests/integration/fixtures"

run_kept "$fixtures/local-scale.yaml" --quiet || { finish; exit 1; }

check "summary says PASS with exit 0" test "$(json "$summary" "j['verdict']['exit_code']")" = 0
check "the paused broker was the active controller" test "$(json "$summary" "[c for c in j['chaos'] if c['verb'] == 'broker-pause'][0]['details']['controller']")" = True
check "pause and graceful stop were undone" test "$(json "$summary" "all(c['undone'] for c in j['chaos'] if c['verb'] in ('broker-pause', 'broker-stop'))")" = True
check "graceful stop moved leadership at once" test "$(/usr/bin/python3 -c '
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1])]
print(any(e["type"]=="leaders_recovered" and e["broker"]==3 and e["after_ms"] < 5000 for e in ev))' "$dir/events.jsonl")" = True
check "the dry run did nothing but say so" test "$(json "$summary" "[c['description'] for c in j['chaos'] if c['verb'] == 'broker-kill'][0].startswith('dry run: would broker-kill broker ')")" = True
check "scale steps recorded as done" test "$(grep -c '"type":"scale"' "$dir/events.jsonl")" = 3
check "the producer scale step waited until 300/s was acknowledged" test "$(json "$summary" "[c['details'] for c in j['chaos'] if c['verb'] == 'producer'][0]['took_effect']")" = True
check "the scaled phase ran at the new rate at its end" test "$(json "$summary" "[p for p in j['phases'] if p['name'] == 'scale'][0]['metrics']['rates_per_s']['intended'] > 250")" = True
check "no acknowledged record lost" test "$(json "$summary" "j['ledger']['lost']")" = 0

kcat -L -b "$bootstrap" -t t >"$work/metadata" 2>&1
cat "$work/metadata"
check "metadata lists 4 brokers" grep -q ' 4 brokers:' "$work/metadata"
check "the added broker is broker 4" grep -q 'broker 4 at 127.0.0.1:' "$work/metadata"
check "topic t has 6 partitions" grep -q 'topic "t" with 6 partitions' "$work/metadata"

stop_kept

# Validation refuses what the local target cannot do, before starting anything.
cat >"$work/bad-delay.yaml" <<'YAML'
name: bad-delay
target: local
topology: { kafka: { brokers: 3, topics: [ { name: t, partitions: 3, replication_factor: 3 } ] } }
workloads: { w: { type: kafka-producer, payload: { value: x }, topic: t } }
timeline:
  - phase: p
    duration: 10s
    load: { w: { rate: 10/s } }
    steps:
      - { at: 1s, chaos: broker-delay, broker: 1, delay: 50ms, for: 2s }
YAML
"$ENGINE" validate "$work/bad-delay.yaml" >"$work/out" 2>&1
rc=$?
cat "$work/out"
check "broker-delay on local: exit 2" test "$rc" = 2
check "broker-delay on local: names file, line and column" grep -q "bad-delay.yaml:10:9: .*broker-delay" "$work/out"

sed -e 's/target: local/target: embedded/' -e 's/chaos: broker-delay, broker: 1, delay: 50ms/chaos: broker-kill, broker: controller/' \
  "$work/bad-delay.yaml" >"$work/bad-controller.yaml"
"$ENGINE" validate "$work/bad-controller.yaml" >"$work/out" 2>&1
rc=$?
cat "$work/out"
check "broker-kill on embedded: exit 2" test "$rc" = 2
check "broker-kill on embedded: names the step" grep -q "bad-controller.yaml:10:9: .*broker-kill" "$work/out"

sed -e 's/chaos: broker-delay, broker: 1, delay: 50ms, for: 2s/scale: add-partitions, topic: t, partitions: 2/' \
  "$work/bad-delay.yaml" >"$work/bad-partitions.yaml"
"$ENGINE" validate "$work/bad-partitions.yaml" >"$work/out" 2>&1
rc=$?
cat "$work/out"
check "fewer partitions: exit 2" test "$rc" = 2
check "fewer partitions: says why, with line and column" grep -q "bad-partitions.yaml:10:.*must exceed the 3" "$work/out"
finish
