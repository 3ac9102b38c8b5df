#!/usr/bin/env bash
# The chaos hands-on on real Kafka (local target): scenarios/chat-chaos.yaml
# with its timeline shortened. The engine starts `serve webapp` in front of
# 4 brokers, posts chat messages to it over HTTP, follows the room with two
# server-sent-event readers, and kills a random broker on a schedule. Every
# acknowledged message must reach both readers, delivery delay must be
# measured for each, leadership moves must be reported, and the webapp must
# be gone when the run is. The calm-phase delay bound is 1 s here, not the
# scenario's 500 ms: this sanitizer build shares two cores with four JVMs;
# the warm-up keeps its 10 s (new JVMs, the webapp's first consumer fetches).
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

"$ENGINE" run "$SRC/scenarios/chat-chaos.yaml" --results "$work/results" --quiet \
  --set timeline.calm.duration=10s --set timeline.chaos.duration=45s \
  --set timeline.chaos.steps.0.every=15s --set timeline.chaos.steps.0.start=3s --set timeline.chaos.steps.0.spacing=31s \
  --set 'expect.4=p99(sse.delivery_delay) < 1s during calm' \
  >"$work/stdout" 2>"$work/stderr"
rc=$?
cat "$work/stdout"
summary=$(ls "$work"/results/*/summary.json 2>/dev/null | head -1)
check "summary written" test -n "$summary"
[ -n "$summary" ] || { cat "$work/stderr"; finish; exit 1; }
dir=$(dirname "$summary")
json "$summary" "'\n'.join('FAILED EXPECTATION: %s measured %s' % (e['expect'], e['measured_text']) for e in j['expectations'] if not e['pass'])"
check "exit 0" test "$rc" = 0
c() { json "$summary" "j['run']['counters'].get('$1', -1)"; }
check "three kills of distinct brokers" test "$(json "$summary" "len({c['details']['broker'] for c in j['chaos'] if c['verb'] == 'broker-kill'})")" = 3
posted=$(c http.status_2xx)
check "posts acknowledged by the webapp (about 50/s for 60 s)" test "$posted" -ge 2700
check "every acknowledged post verified" test "$(c sse.verified)" = "$posted"
check "no acknowledged message lost" test "$(c sse.lost)" = 0
check "both readers got every message: 2 x posted" test "$(c sse.messages)" -ge $((2 * posted))
check "a delivery delay for every message each reader got" \
  test "$(json "$summary" "j['run']['histograms']['sse.delivery_delay']['count']")" = "$(c sse.messages)"
check "delay measured during chaos" test "$(json "$summary" "[p for p in j['phases'] if p['name'] == 'chaos'][0]['metrics']['histograms']['sse.delivery_delay']['count'] > 0")" = True
check "leadership moves counted" test "$(c kafka.leader_changes)" -ge 3
check "leadership moves reported with snapshots" test "$(/usr/bin/python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["type"] == "leaders_recovered" and json.loads(l)["leaders_moved"]))' "$dir/events.jsonl")" -ge 2
check "webapp started for the run, with its log in the results" test -s "$dir/webapp.log"
pid=$(/usr/bin/python3 -c '
import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["type"] == "webapp_started"][0]["pid"])' "$dir/events.jsonl")
check "webapp stopped with the run" bash -c "! kill -0 $pid 2>/dev/null"
finish
