#!/usr/bin/env bash
# The ETL pipeline against real redis-server and PostgreSQL (started by the
# engine): Redis killed and restarted, PostgreSQL killed and restarted, an ETL
# consumer crashing - each must end with nothing lost, duplicated or
# unexpected and Redis aggregates equal to PostgreSQL sums. A lossy transform
# must make the ledger name exactly the records it dropped, and poison records
# must be dead-lettered without stopping the pipeline.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

run_case() {  # run_case NAME ARGS... -> exit code; results in $work/NAME
  local name=$1; shift
  "$ENGINE" run "$F/etl.yaml" --results "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err"
}
summary_of() { ls "$work/$1"/*/summary.json 2>/dev/null | head -1; }

ledger_clean() {  # ledger_clean NAME: the ledger checked and found nothing wrong
  local s
  s=$(summary_of "$1")
  [ -n "$s" ] && [ "$(json "$s" "j['ledger']['checked'] and j['ledger']['lost'] == 0 and j['ledger']['duplicates'] == 0 and j['ledger']['unexpected'] == 0 and j['ledger']['aggregate_mismatches'] == 0 and j['ledger']['acked'] > 3000 and j['ledger']['rows'] == j['ledger']['acked']")" = True ]
}
chaos_undone() {  # chaos_undone NAME VERB
  local s
  s=$(summary_of "$1")
  [ -n "$s" ] && [ "$(json "$s" "len(j['chaos']) == 1 and j['chaos'][0]['verb'] == '$2' and j['chaos'][0]['undone']")" = True ]
}

# Under ThreadSanitizer (KAPTURE_TSAN, scripts/build tsan) the engine runs
# several times slower: only the cases that drive the threads differently run
# there (producer, consumers and lag reader without faults; a consumer thread
# crashed and restarted; PostgreSQL's call watchdog firing on a paused server).
cases="plain redis postgres rpause ppause crash lossy mapped poison"
[ -n "${KAPTURE_TSAN:-}" ] && cases="plain crash ppause"
want() { [[ " $cases " == *" $1 "* ]]; }

if want plain; then
before=$(ls -d /tmp/kapture-redis.* /tmp/kapture-pg.* 2>/dev/null | sort)
run_case plain; rc=$?
check "pipeline without faults: exit 0" test $rc = 0
check "pipeline without faults: ledger clean" ledger_clean plain
s=$(summary_of plain)
[ -n "$s" ] && check "pipeline without faults: the Lua assertion passed with its message" test "$(json "$s" "[e for e in j['expectations'] if e.get('lua')][0]['pass'] and 'agree' in [e for e in j['expectations'] if e.get('lua')][0]['measured_text']")" = True
after=$(ls -d /tmp/kapture-redis.* /tmp/kapture-pg.* 2>/dev/null | sort)
check "the engine removed the directories of the servers it started" test "$before" = "$after"
check "no server the engine started is left running" test -z "$(pgrep -f '/tmp/kapture-(redis|pg)\.' || true)"
fi

if want redis; then
run_case redis --set 'timeline.load.steps=[{at: 2s, chaos: redis-kill, for: 2s}]'; rc=$?
check "Redis killed and restarted: exit 0" test $rc = 0
check "Redis killed and restarted: ledger clean" ledger_clean redis
check "Redis killed and restarted: injection undone" chaos_undone redis redis-kill
s=$(summary_of redis)
[ -n "$s" ] && check "Redis killed and restarted: writes failed and were retried" test "$(json "$s" "j['run']['counters']['etl.sink_errors'] > 0")" = True
[ -n "$s" ] && check "Redis killed and restarted: summary.json's faults has the outage, ended" \
  test "$(json "$s" "any(f['dependency'] == 'redis' and f['to_s'] is not None and f['failures'] > 0 for f in j['faults'])")" = True
fi

if want postgres; then
run_case postgres --set 'timeline.load.steps=[{at: 2s, chaos: postgres-kill, for: 3s}]'; rc=$?
check "PostgreSQL killed and restarted: exit 0" test $rc = 0
check "PostgreSQL killed and restarted: ledger clean" ledger_clean postgres
check "PostgreSQL killed and restarted: injection undone" chaos_undone postgres postgres-kill
s=$(summary_of postgres)
[ -n "$s" ] && check "PostgreSQL killed and restarted: summary.json's faults has the outage, ended" \
  test "$(json "$s" "any(f['dependency'] == 'postgres' and f['to_s'] is not None and f['failures'] > 0 for f in j['faults'])")" = True
fi

if want rpause; then
run_case rpause --set 'timeline.load.steps=[{at: 2s, chaos: redis-pause, for: 3s}]'; rc=$?
check "Redis paused and resumed: exit 0" test $rc = 0
check "Redis paused and resumed: ledger clean" ledger_clean rpause
check "Redis paused and resumed: injection undone" chaos_undone rpause redis-pause
fi

if want ppause; then
run_case ppause --set 'timeline.load.steps=[{at: 2s, chaos: postgres-pause, for: 3s}]'; rc=$?
check "PostgreSQL paused and resumed: exit 0" test $rc = 0
check "PostgreSQL paused and resumed: ledger clean" ledger_clean ppause
check "PostgreSQL paused and resumed: injection undone" chaos_undone ppause postgres-pause
fi

if want crash; then
run_case crash --set 'timeline.load.steps=[{at: 2s, chaos: consumer-crash, workload: etl, for: 3s}]'; rc=$?
check "ETL consumer crash and restart: exit 0" test $rc = 0
check "ETL consumer crash and restart: ledger clean" ledger_clean crash
s=$(summary_of crash)
[ -n "$s" ] && check "ETL consumer crash: the group rebalanced" test "$(json "$s" "j['run']['counters']['etl.rebalances'] > 2")" = True
fi

if want lossy; then
# Lossy on purpose: exactly the multiples of 1000 must be reported lost.
run_case lossy --set 'workloads.etl.transform={lua: drop-every-1000.lua}'; rc=$?
check "lossy transform: the run fails (exit 1)" test $rc = 1
s=$(summary_of lossy)
check "lossy transform: summary written" test -n "$s"
if [ -n "$s" ]; then
  # One producer thread: sequence numbers are 0..acked-1, so the dropped ones
  # are the multiples of 1000 below that.
  check "lossy transform: the ledger names exactly the dropped ids" test "$(json "$s" \
    "sorted(int(i.rsplit('-', 1)[1]) for i in j['ledger']['lost_ids']) == list(range(0, j['ledger']['acked'], 1000)) and j['ledger']['lost'] >= 3")" = True
  check "lossy transform: filtered count equals lost count" test "$(json "$s" "j['run']['counters']['etl.filtered'] == j['ledger']['lost']")" = True
  check "lossy transform: the FAIL names ledger.lost" grep -q "FAIL   ledger.lost == 0" "$work/lossy.out"
  check "lossy transform: the Lua assertion sees it too" test "$(json "$s" "[e for e in j['expectations'] if e.get('lua')][0]['pass'] == False and 'acknowledged' in [e for e in j['expectations'] if e.get('lua')][0]['measured_text']")" = True
fi
fi

if want mapped; then
# The built-in field mapping: flat records into Redis.
run_case mapped --set 'workloads.etl.transform={fields: {state: store.location.state, total: total}}' \
  --set workloads.etl.postgres=false --set topology.postgres=false --set 'workloads.etl.redis={set: true}' \
  --set 'expect=[{lua: mapped.lua, function: check}]'; rc=$?
check "field mapping: exit 0" test $rc = 0
check "field mapping: Redis holds flat records" grep -q "flat records" "$work/mapped.out"
fi

if want poison; then
# Poison records: a second producer writes non-JSON into the same topics
# (stopped for the drain, like the main one, so the drain sees all of it).
run_case poison --set 'workloads.junk={type: kafka-producer, payload: {value: "not json"}, topic: bps.texas}' \
  --set 'timeline.load.load.junk=20/s' --set 'timeline.drain.load.junk=0/s' --set 'expect=["ledger.lost == 0", "ledger.unexpected == 0"]'; rc=$?
check "poison records: the pipeline goes on (exit 0)" test $rc = 0
s=$(summary_of poison)
if [ -n "$s" ]; then
  check "poison records: every one dead-lettered" test "$(json "$s" "j['run']['counters']['etl.dead_letter'] == j['run']['counters']['produce.acked'] - j['ledger']['acked'] and j['run']['counters']['etl.dead_letter'] > 100")" = True
  check "poison records: listed with topic, partition, offset" test "$(json "$s" "j['dead_letters'][0]['topic'] == 'bps.texas' and j['dead_letters'][0]['reason'] == 'not JSON'")" = True
fi
fi
finish
