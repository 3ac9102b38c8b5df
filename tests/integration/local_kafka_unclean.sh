#!/usr/bin/env bash
# Real Kafka (local target): scenarios/kafka-unclean.yaml, acks=1 with
# unclean leader election, killing partition leaders under load. Loss may or
# may not happen; what must hold is that the ledger tells the truth: the ids a
# direct read of the topic finds are exactly the acknowledged ones minus those
# the ledger calls lost, plus those it calls unexpected or failed-but-present,
# and every id it names as lost is really absent.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

run_kept "$SRC/scenarios/kafka-unclean.yaml" \
  --set timeline.load.duration=36s \
  --set timeline.load.steps.0.every=10s \
  --set timeline.load.steps.0.start=3s || { finish; exit 1; }

check "summary says PASS with exit 0" test "$(json "$summary" "j['verdict']['exit_code']")" = 0
check "leaders were killed" test "$(json "$summary" "sum(1 for c in j['chaos'] if c['verb'] == 'broker-kill' and c['undone'])")" -ge 3
check "the ledger was checked against Kafka" test "$(json "$summary" "j['ledger']['checked'] and j['ledger']['verified_against']")" = kafka
check "the console states what the ledger found" grep -q "ledger: .* acknowledged, .* records read back from Kafka: .* lost" "$work/stdout"

kcat -C -b "$bootstrap" -t events -o beginning -e -q -f '%s\n' >"$work/records" 2>"$work/kcat.err"
/usr/bin/python3 - "$summary" "$work/records" >"$work/compare" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
l = j["ledger"]
found = {json.loads(line)["id"] for line in open(sys.argv[2])}
expected = l["acked"] - l["lost"] + l["unexpected"] + l["failed_but_present"]
print("acked", l["acked"], "lost", l["lost"], "unexpected", l["unexpected"], "failed_but_present", l["failed_but_present"],
      "distinct ids read", len(found))
print("COUNT", len(found) == expected)
print("LOST_ABSENT", all(i not in found for i in l["lost_ids"]))
print("LOST_LISTED", len(l["lost_ids"]) == min(l["lost"], 100))
PY
cat "$work/compare"
check "distinct ids read == acked - lost + unexpected + failed-but-present" grep -q "^COUNT True" "$work/compare"
check "every id named lost is absent from the topic" grep -q "^LOST_ABSENT True" "$work/compare"
check "lost ids are listed (up to 100)" grep -q "^LOST_LISTED True" "$work/compare"

stop_kept
finish
