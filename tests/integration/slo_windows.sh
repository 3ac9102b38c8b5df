#!/usr/bin/env bash
# Expectations over time, for real on the embedded target: sliding windows,
# recovery_time after a named step, label filters, an `abort: true`
# expectation stopping the run (rollbacks still run), and the benchmark
# phase finding the knee of a throttled cluster.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

# expectation N FIELD: a field of the Nth expectation in summary.json.
exp() { json "$summary" "j['expectations'][$1]$2"; }

# --- bad expressions are refused at validate time, at their column ---
sed -e 's/count(produce.acked{topic="t"})/count(produce.acked{state="t"})/' \
    -e 's/< 9s after slow-brokers/< 9s after slow-broker/' "$F/slo.yaml" >"$work/bad-slo.yaml"
"$ENGINE" validate "$work/bad-slo.yaml" >"$work/bad.out" 2>&1; rc=$?
check "bad label and unknown step: exit 2" test $rc = 2
check "unknown label: file:line:column of the label" grep -qF "bad-slo.yaml:33:25: metric produce.acked has no label 'state'" "$work/bad.out"
check "unknown step: column of the name, with a guess" grep -qF "bad-slo.yaml:31:59: no step named 'slow-broker'" "$work/bad.out"
check "unknown step: did you mean" grep -qF "did you mean 'slow-brokers'" "$work/bad.out"

# --- windows, recovery, labels: one run, some expectations meant to fail ---
"$ENGINE" run "$F/slo.yaml" --results "$work/r1" --quiet >"$work/slo.out" 2>"$work/slo.err"; rc=$?
summary=$(ls "$work"/r1/*/summary.json 2>/dev/null | head -1)
check "windows run: exit 1 (two expectations are meant to fail)" test $rc = 1
check "windows run: summary.json written" test -n "$summary"
if [ -n "$summary" ]; then
  check "over 3s during calm holds" test "$(exp 0 "['pass']")" = True
  check "over 3s over the whole run fails (the delay shows)" test "$(exp 1 "['pass']")" = False
  check "its note counts failed windows" grep -q "window(s) failed; worst" <(exp 1 "['note']")
  check "its worst window measured the delay (p99 > 150 ms)" \
    python3 -c "import sys; sys.exit(0 if $(exp 1 "['measured']") > 150000 else 1)"
  check "for 3 consecutive holds" test "$(exp 2 "['pass']")" = True
  check "recovery_time < 9s holds" test "$(exp 3 "['pass']")" = True
  # 4 s of delay, then 3 good seconds: recovered between 3 and 9 seconds after the step.
  check "recovery_time measured between 3 s and 9 s" \
    python3 -c "import sys; v=$(exp 3 "['measured']"); sys.exit(0 if 3e6 <= v < 9e6 else 1)"
  check "recovery_time < 2s fails" test "$(exp 4 "['pass']")" = False
  check "the chaos record names the step" test "$(json "$summary" "j['chaos'][0]['step']")" = slow-brokers
  check "label filter on the one topic equals the total" test "$(exp 5 "['pass']")" = True
  check "the labelled latency saw the delay" test "$(exp 6 "['pass']")" = True
  check "junit says why recovery failed" grep -q "slowest of 1 injection(s) of slow-brokers" "$(dirname "$summary")/junit.xml"
fi

# --- abort: true stops the run as soon as the delay shows ---
"$ENGINE" run "$F/slo.yaml" --results "$work/r2" --quiet \
  --set 'expect=[{expect: "p99(produce.latency) < 100ms over 2s", abort: true}, "count(produce.failed) == 0"]' \
  >"$work/abort.out" 2>"$work/abort.err"; rc=$?
summary=$(ls "$work"/r2/*/summary.json 2>/dev/null | head -1)
check "abort run: exit 1" test $rc = 1
check "abort run: summary.json written" test -n "$summary"
if [ -n "$summary" ]; then
  check "headline says aborted" grep -q "aborted at" <(json "$summary" "j['verdict']['headline']")
  check "the aborting expectation failed, marked abort" test "$(exp 0 "['pass']"),$(exp 0 "['abort']")" = False,True
  check "the other expectation was still judged (and held)" test "$(exp 1 "['pass']")" = True
  check "phase slow ended by the abort" test "$(json "$summary" "[p['ended_by'] for p in j['phases'] if p['name']=='slow'][0]")" = abort
  # The delay starts at 7 s; the run stops within a few seconds, not at 19 s.
  check "stopped early (before 13 s of timeline)" \
    python3 -c "import sys; sys.exit(0 if $(json "$summary" "j['duration_s']") < 13 else 1)"
  check "the delay was undone (rollback ran)" test "$(json "$summary" "j['chaos'][0]['undone']")" = True
  check "events.jsonl has the violation" grep -q '"type":"expectation_violated"' "$(dirname "$summary")/events.jsonl"
fi

# --- benchmark: the knee of a cluster throttled to ~500/s ---
"$ENGINE" run "$F/benchmark.yaml" --results "$work/r3" >"$work/bench.out" 2>"$work/bench.err"; rc=$?
summary=$(ls "$work"/r3/*/summary.json 2>/dev/null | head -1)
check "benchmark run: exit 0" test $rc = 0
check "benchmark run: summary.json written" test -n "$summary"
if [ -n "$summary" ]; then
  b="j['benchmarks'][0]"
  check "benchmark stopped because throughput stopped rising" test "$(json "$summary" "$b['stopped_because']")" = "throughput stopped rising"
  check "at least 3 steps were measured" python3 -c "import sys; sys.exit(0 if $(json "$summary" "len($b['steps'])") >= 3 else 1)"
  check "the knee is below the throttle (200-800/s) and kept up" \
    python3 -c "import sys; t=$(json "$summary" "$b['knee']['target_per_s']"); a=$(json "$summary" "$b['knee']['achieved_per_s']"); sys.exit(0 if 200 <= t <= 800 and a >= 0.8*t else 1)"
  check "the step after the knee did not keep up" \
    python3 -c "import sys; s=$(json "$summary" "$b['steps']"); k=$(json "$summary" "$b['steps'].index(next(x for x in $b['steps'] if x['target_per_s']==$b['knee']['target_per_s']))"); n=s[k+1]; sys.exit(0 if n['achieved_per_s'] < 0.9*n['target_per_s'] else 1)"
  check "the console summary names the maximum sustainable rate" grep -q "maximum sustainable rate" "$work/bench.out"
  check "phase ended at the knee" test "$(json "$summary" "j['phases'][0]['ended_by']")" = knee
fi
# --- benchmark by threads: each producer thread has its own connection to
# the throttled broker (one request of 50 records in flight per 100 ms), so
# throughput grows with threads ---
"$ENGINE" run "$F/benchmark.yaml" --results "$work/r4" --quiet --set workloads.w.max_threads=3 \
  --set 'timeline.ramp.benchmark={workload: w, by: threads, from: 1, step: 1, every: 3s, max: 3}' \
  --set 'timeline.ramp.steps=[{at: 0s, chaos: broker-delay, broker: 1, delay: 100ms, for: 9s}]' \
  >"$work/threads.out" 2>"$work/threads.err"; rc=$?
summary=$(ls "$work"/r4/*/summary.json 2>/dev/null | head -1)
check "benchmark by threads: exit 0" test $rc = 0
if [ -n "$summary" ]; then
  b="j['benchmarks'][0]"
  check "steps ran 1, 2, 3 threads" test "$(json "$summary" "[s['threads'] for s in $b['steps']]")" = "[1, 2, 3]"
  check "one thread is held to the throttle (under 800/s)" \
    python3 -c "import sys; sys.exit(0 if $(json "$summary" "$b['steps'][0]['achieved_per_s']") < 800 else 1)"
  check "two threads send at least 1.5x one thread" \
    python3 -c "import sys; s=$(json "$summary" "$b['steps']"); sys.exit(0 if s[1]['achieved_per_s'] >= 1.5 * s[0]['achieved_per_s'] else 1)"
  check "the knee is reported in threads" python3 -c "import sys; sys.exit(0 if $(json "$summary" "$b['knee']['threads']") >= 2 else 1)"
else
  check "benchmark by threads wrote summary.json" false
fi
[ "$failed" -eq 0 ] || { cat "$work"/*.out "$work"/*.err | tail -40; }
finish
