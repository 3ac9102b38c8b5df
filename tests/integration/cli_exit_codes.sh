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
run fail run "$F/small.yaml" --results "$work/r-fail" --set 'expect=["count(produce.failed) == 0", "p99(produce.latency) < 1us"]'; rc=$?
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

# Every results directory above (pass, fail, unreachable, Lua error, behind its
# rate, interrupted): summary.json matches schemas/results.schema.json, and
# junit.xml and summary.md are written next to it.
dirs=()
for d in "$work"/r-*/*/; do dirs+=("${d%/}"); done
check "six results directories" test "${#dirs[@]}" = 6
check "every summary.json matches the results schema" /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "${dirs[@]}"

# junit_matches DIR: one testsuite named after the scenario; one testcase per
# expectation, named by its text, with a <failure> exactly where summary.json
# says it failed (<skipped> only for no data in a run that ended early); a
# `run` testcase with an <error> when the run did not complete; counts agree.
junit_matches() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
suites = ET.parse(d + "/junit.xml").getroot().findall("testsuite")
problems = []
if len(suites) != 1 or suites[0].get("name") != s["scenario"]["name"]:
    sys.exit(f"{d}: want one testsuite named {s['scenario']['name']}")
suite = suites[0]
cases = suite.findall("testcase")
code = s["verdict"]["exit_code"]
want = [e["expect"] for e in s["expectations"]] + (["run"] if code in (2, 3, 4, 130) else [])
if [c.get("name") for c in cases] != want:
    problems.append(f"testcases {[c.get('name') for c in cases]}, want {want}")
for e, c in zip(s["expectations"], cases):
    fail, skip = c.find("failure"), c.find("skipped")
    if e["pass"] and (fail is not None or skip is not None):
        problems.append(f"{e['expect']}: passed, but junit says otherwise")
    if not e["pass"]:
        if skip is not None and not (e["measured"] is None and code in (2, 3, 130)):
            problems.append(f"{e['expect']}: skipped, but it had data or the run completed")
        if skip is None and (fail is None or e["measured_text"] not in fail.get("message")
                             or e["threshold_text"] not in fail.get("message")):
            problems.append(f"{e['expect']}: failed, want a <failure> with {e['measured_text']} and {e['threshold_text']}")
if code in (2, 3, 4, 130) and (cases[-1].find("error") is None or cases[-1].find("error").get("message") != s["verdict"]["headline"]):
    problems.append("the run testcase has no <error> with the headline")
for attr, tag in (("failures", "failure"), ("skipped", "skipped"), ("errors", "error")):
    if int(suite.get(attr)) != len(suite.findall(f"testcase/{tag}")):
        problems.append(f"{attr}={suite.get(attr)} does not count the <{tag}> elements")
if int(suite.get("tests")) != len(cases):
    problems.append(f"tests={suite.get('tests')}, {len(cases)} testcases")
for p in problems:
    print(f"{d}: {p}")
sys.exit(1 if problems else 0)
PY
}
for d in "${dirs[@]}"; do
  check "junit.xml matches the verdict in $(basename "$(dirname "$d")")" junit_matches "$d"
  check "summary.md written in $(basename "$(dirname "$d")")" test -s "$d/summary.md"
done
pass_dir=$(dirname "$(ls "$work"/r-pass/*/summary.json)")
fail_dir=$(dirname "$(ls "$work"/r-fail/*/summary.json)")
check "junit.xml of the failed run: one testcase passed, one failed" \
  test "$(/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as ET; s=ET.parse(sys.argv[1]).find("testsuite"); print(s.get("tests"), s.get("failures"))' "$fail_dir/junit.xml")" = "2 1"
check "summary.md of the passing run: PASS title" grep -q '^# PASS: small$' "$pass_dir/summary.md"
check "summary.md of the failed run: FAIL title" grep -q '^# FAIL: small$' "$fail_dir/summary.md"
check "summary.md of the failed run: the failed expectation's row" grep -qE '^\| \*\*FAIL\*\* \| `p99\(produce.latency\) < 1us` \| [0-9.]+(us|ms|s) \| &lt; 1us \|$' "$fail_dir/summary.md"
check "summary.md: phases and chaos" grep -q '^| chaos | ' "$pass_dir/summary.md"

# report and compare read results back.
run report report "$fail_dir"; rc=$?
check "report of the failed run: exit 1" test $rc = 1
check "report of the failed run: FAIL row" has report "FAIL  p99(produce.latency) < 1us"
run same compare "$pass_dir" "$pass_dir/summary.json"; rc=$?
check "compare a run with itself: exit 0" test $rc = 0
check "compare a run with itself: OK" has same "OK: no key metric worse by more than 10%"
mkdir -p "$work/doctored"
/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
s["run"]["latency"]["p99_ms"] *= 1.5
json.dump(s, open(sys.argv[2], "w"))' "$pass_dir/summary.json" "$work/doctored/summary.json"
run worse compare "$pass_dir" "$work/doctored"; rc=$?
check "compare with p99 latency up 50%: exit 1" test $rc = 1
check "compare with p99 latency up 50%: names it" grep -qE 'produce.latency p99 .* \+50\.0%  WORSE' "$work/worse.out"
run lenient compare "$pass_dir" "$work/doctored" --tolerance 60%; rc=$?
check "compare with p99 latency up 50%, tolerance 60%: exit 0" test $rc = 0
run better compare "$work/doctored" "$pass_dir"; rc=$?
check "compare with p99 latency down by a third: exit 0 (better)" test $rc = 0
run nobase compare "$work/nope" "$pass_dir"; rc=$?
check "compare with a missing base: exit 2" test $rc = 2
check "compare with a missing base: names the file" has nobase "$work/nope: cannot read"
echo "not json" >"$work/garbage.json"
run garbage compare "$pass_dir" "$work/garbage.json"; rc=$?
check "compare with a file that is not JSON: exit 2" test $rc = 2
check "compare with a file that is not JSON: names the file" has garbage "$work/garbage.json: not valid JSON"
run badtol compare "$pass_dir" "$pass_dir" --tolerance lots; rc=$?
check "compare with a bad tolerance: exit 2" test $rc = 2
finish
