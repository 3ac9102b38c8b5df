#!/usr/bin/env bash
# The README's troubleshooting table, row by row: every bad input provoked for
# real, with the message it gives (file:line:column, the endpoint, or the file
# that could not be written), its exit code, and whatever ran still written
# out. Rows already covered by cli_exit_codes.sh are named there; the last
# check reads the table and requires each row's test to be a check here or there.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"
started=$SECONDS

run() {  # run NAME ARGS...: runs the engine, keeps stdout/stderr, returns its exit code
  local name=$1; shift
  "$ENGINE" "$@" >"$work/$name.out" 2>"$work/$name.err"
}
has() { grep -qF -- "$2" "$work/$1.out" "$work/$1.err"; }
hasnt() { ! grep -qF -- "$2" "$work/$1.out" "$work/$1.err"; }
summary_in() { ls "$1"/*/summary.json 2>/dev/null | head -1; }
# valid_results ROOT: one run directory under ROOT whose summary.json parses
# and matches schemas/results.schema.json.
valid_results() {
  local s
  s=$(summary_in "$1")
  [ -n "$s" ] && /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "$(dirname "$s")" >/dev/null
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# wait_for_line FILE PATTERN PID SECONDS: readiness by polling what the engine
# writes (its event log or stderr), giving up if it exits or the deadline passes.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3 deadline=$((SECONDS + $4))
  until grep -qE -- "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# Scenarios of our own, beside a copy of the fixtures' generator.
cp "$F/small.yaml" "$F/fixed.lua" "$work/"
printf 'name: x\ntimeline:\n  - phase: a\n    duration: [1s\n' >"$work/malformed.yaml"
printf 'name: x\ntimelin:\n  - phase: a\n    duration: 1s\n' >"$work/unknown-key.yaml"
printf 'name: x\ntimeline:\n  - phase: a\n    duration: 1s\n    load: { w: 10/s }\n' >"$work/unknown-workload.yaml"
cat >"$work/wrong-type.lua" <<'EOF'
function generate(seq, now_ms)
  return 42
end
EOF
cat >"$work/nil-midrun.lua" <<'EOF'
-- Returns nothing for record 300: the run stops there, results written.
function generate(seq, now_ms)
  if seq == 300 then return nil end
  return { id = "tx-" .. seq, created_ms = now_ms }
end
EOF
cat >"$work/error-at-start.lua" <<'EOF'
function generate(seq, now_ms)
  local t = nil
  return { id = t.id }
end
EOF
# Long phases, each ended by a signal: load, a chaos injection, a drain that
# waits for a condition which never holds.
cat >"$work/phases.yaml" <<'EOF'
name: phases
seed: 3
target: embedded
topology:
  kafka:
    brokers: 3
    topics:
      - { name: t, partitions: 3, replication_factor: 3 }
workloads:
  w:
    type: kafka-producer
    generator: { lua: fixed.lua }
    topic: t
timeline:
  - phase: load
    duration: 30s
    load: { w: 200/s }
  - phase: chaos
    duration: 30s
    steps:
      - { at: 0s, chaos: broker-down, broker: 1, for: 25s }
  - phase: drain
    load: { w: 0/s }
    until: "count(produce.acked) < 0"
    timeout: 30s
expect:
  - count(produce.failed) == 0
EOF

# A throwaway PostgreSQL with a password, made in the background (initdb is
# the slow part) while the checks that need no server run.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pgdir=$(mktemp -d /tmp/kapture-bi-pg.XXXXXX)  # not in $work: postgres cannot enter a root-only directory
pg_port=$(free_port)
echo s3cret-pg >"$pgdir/pw"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown -R postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
( "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U kapture --auth=scram-sha-256 --pwfile="$pgdir/pw" --locale=C >"$pgdir/initdb.log" 2>&1 &&
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -o "-p $pg_port -h 127.0.0.1 -k $pgdir" -l "$pgdir/pg.log" -w start >/dev/null 2>&1
  echo $? >"$pgdir/started" ) &
pg_setup=$!
# A Redis with a password.
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --requirepass s3cret-redis --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
mounts=()
stop_servers() {
  [ -f "$pgdir/data/postmaster.pid" ] && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$pgdir"
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  cleanup
}
trap stop_servers EXIT
dead=$(free_port)  # nothing listens here

# --- Scenario files ----------------------------------------------------------
run malformed validate "$work/malformed.yaml"; rc=$?
check "malformed YAML: exit 2" test $rc = 2
check "malformed YAML: file:line:column" has malformed "$work/malformed.yaml:5:1: YAML syntax error: end of sequence flow not found"
run malformed-run run "$work/malformed.yaml" --results "$work/r-malformed"; rc=$?
check "malformed YAML: run refuses it before anything runs" test $rc = 2 -a ! -e "$work/r-malformed"
run unknown-key validate "$work/unknown-key.yaml"; rc=$?
check "schema violation (unknown key): exit 2" test $rc = 2
check "schema violation (unknown key): file:line:column and the allowed keys" has unknown-key "$work/unknown-key.yaml:2:1: unknown key 'timelin' in scenario (did you mean 'timeline'?)"
check "schema violation (missing key): names it" has unknown-key "$work/unknown-key.yaml:1:1: missing required key 'timeline'"
run unknown-workload validate "$work/unknown-workload.yaml"; rc=$?
check "schema violation (load of an unknown workload): exit 2" test $rc = 2
check "schema violation (load of an unknown workload): file:line:column" grep -qE "^$work/unknown-workload.yaml:5:[0-9]+: .*'w'" "$work/unknown-workload.err"

# --- Lua generators ----------------------------------------------------------
run wrongtype validate "$work/small.yaml" --set workloads.w.generator.lua=wrong-type.lua; rc=$?
check "generator returns a number: exit 2" test $rc = 2
check "generator returns a number: file:line of the function" has wrongtype "wrong-type.lua:1: generate() must return a record table or a string, not number"
run wrongtype-mid run "$work/small.yaml" --results "$work/r-nil" --quiet --set workloads.w.generator.lua=nil-midrun.lua; rc=$?
check "generator returns nil mid-run: exit 2" test $rc = 2
check "generator returns nil mid-run: file:line of the function" has wrongtype-mid "nil-midrun.lua:2: generate() must return a record table or a string, not nil"
check "generator returns nil mid-run: a valid summary with the 300 records sent" \
  sh -c "/usr/bin/python3 '$SRC/tests/schema/validate_results.py' $(dirname "$(summary_in "$work/r-nil")" 2>/dev/null) >/dev/null && test \"\$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"run\"][\"counters\"][\"produce.sent\"] >= 300)' $(summary_in "$work/r-nil"))\" = True"
run luastart validate "$work/small.yaml" --set workloads.w.generator.lua=error-at-start.lua; rc=$?
check "Lua error in the generator's first records: exit 2 before the run" test $rc = 2
check "Lua error in the generator's first records: file:line" has luastart "error-at-start.lua:3: attempt to index local 't' (a nil value)"

# --- Results directory -------------------------------------------------------
touch "$work/a-file"
run notdir run "$work/small.yaml" --results "$work/a-file/results" --quiet; rc=$?
check "results below a regular file: exit 2 before the run" test $rc = 2
check "results below a regular file: names the directory and the reason" grep -qE "^$work/a-file/results/small-[0-9TZ-]+: cannot create the results directory: Not a directory" "$work/notdir.err"
mkdir -p "$work/ro"
if mount -t tmpfs -o ro,size=64k tmpfs "$work/ro" 2>/dev/null; then
  mounts+=("$work/ro")
  run readonly run "$work/small.yaml" --results "$work/ro/results" --quiet; rc=$?
  check "read-only results directory: exit 2 before the run" test $rc = 2
  check "read-only results directory: names it and the reason" grep -qE "^$work/ro/results/small-[0-9TZ-]+: cannot create the results directory: Read-only file system" "$work/readonly.err"
  umount "$work/ro"
else
  echo "skip read-only results directory: cannot mount a tmpfs (not root?)"
fi

# A tiny tmpfs: full before the run (refused before anything runs), then
# filled during the run (the verdict still printed, no truncated file, exit 5).
mkdir -p "$work/full"
if mount -t tmpfs -o size=256k tmpfs "$work/full" 2>/dev/null; then
  mounts+=("$work/full")
  mkdir -p "$work/full/results"
  dd if=/dev/zero of="$work/full/filler" bs=4k 2>/dev/null
  run full-before run "$work/small.yaml" --results "$work/full/results" --quiet; rc=$?
  check "full results disk before the run: exit 2" test $rc = 2
  check "full results disk before the run: names plan.json and the reason" grep -qE "^$work/full/results/small-[0-9TZ-]+/plan.json: cannot write: No space left on device" "$work/full-before.err"
  rm -f "$work/full/filler"
  # Broker-down every 250 ms: more events than fit in the page events.jsonl
  # already has (tmpfs allocates by page).
  "$ENGINE" run "$work/small.yaml" --results "$work/full/results" --quiet \
    --set 'timeline.chaos.steps=[{every: 250ms, chaos: broker-down, broker: 1, for: 100ms}]' >"$work/full.out" 2>"$work/full.err" &
  pid=$!
  pids+=("$pid")
  ev=$(wait_for_file "$work/full/results/*/events.jsonl" "$pid" 30)
  wait_for_line "$ev" '"type":"phase_start"' "$pid" 30
  dd if=/dev/zero of="$work/full/filler" bs=4k 2>/dev/null
  wait "$pid"; rc=$?
  d=$(dirname "$ev")
  check "disk full while writing results: exit 5" test $rc = 5
  check "disk full while writing results: names summary.json and the reason" grep -qF "$d/summary.json: cannot write: No space left on device" "$work/full.err"
  check "disk full while writing results: names events.jsonl and the events lost" grep -qE "^$d/events.jsonl: cannot write: No space left on device \([0-9]+ events lost\)" "$work/full.err"
  check "disk full while writing results: the verdict is still printed" grep -qE '^(PASS|FAIL).*\(exit [01]\)$' "$work/full.out"
  check "disk full while writing results: no truncated or temporary file left" \
    sh -c "test -z \"\$(ls '$d' | grep '\.tmp$')\" && { test ! -e '$d/summary.json' || /usr/bin/python3 -m json.tool '$d/summary.json' >/dev/null; }"
  check "disk full while writing results: events.jsonl holds only whole events" \
    /usr/bin/python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$ev"
  umount "$work/full"
else
  echo "skip disk full: cannot mount a tmpfs (not root?)"
fi

# --- Redis and PostgreSQL ----------------------------------------------------
etl() {  # etl NAME ARGS...: the ETL fixture against the stores given
  local name=$1; shift
  run "$name" run "$F/etl.yaml" --results "$work/r-$name" --quiet --set timeline.load.duration=1s "$@"
}
etl redis-down --redis "redis://127.0.0.1:$dead/0" --postgres "postgresql://kapture@127.0.0.1:$dead/postgres"; rc=$?
check "Redis down at start: exit 3" test $rc = 3
check "Redis down at start: names the endpoint" has redis-down "redis 127.0.0.1:$dead/0: cannot connect: Connection refused"
check "Redis down at start: a valid summary is still written" valid_results "$work/r-redis-down"
deadline=$((SECONDS + 20))
until redis-cli -p "$redis_port" -a s3cret-redis --no-auth-warning ping 2>/dev/null | grep -q PONG; do
  [ $SECONDS -lt $deadline ] || break
  sleep 0.05
done
etl redis-auth --redis "redis://:wrong-redis-pw@127.0.0.1:$redis_port/0" --postgres "postgresql://kapture@127.0.0.1:$dead/postgres"; rc=$?
check "wrong Redis password: exit 3" test $rc = 3
check "wrong Redis password: names the endpoint and Redis' answer" has redis-auth "redis 127.0.0.1:$redis_port/0: AUTH failed: WRONGPASS"
check "wrong Redis password: the password is not printed" hasnt redis-auth "wrong-redis-pw"
etl redis-noauth --redis "redis://127.0.0.1:$redis_port/0" --postgres "postgresql://kapture@127.0.0.1:$dead/postgres"; rc=$?
check "Redis password missing: exit 3" test $rc = 3
check "Redis password missing: names the endpoint and Redis' answer" has redis-noauth "redis 127.0.0.1:$redis_port/0: PING failed: NOAUTH Authentication required"
good_redis="redis://:s3cret-redis@127.0.0.1:$redis_port/0"
etl pg-down --redis "$good_redis" --postgres "postgresql://kapture@127.0.0.1:$dead/postgres"; rc=$?
check "PostgreSQL down at start: exit 3" test $rc = 3
check "PostgreSQL down at start: names the endpoint" has pg-down "postgres 127.0.0.1:$dead/postgres: cannot connect: connection to server at \"127.0.0.1\", port $dead failed: Connection refused"
check "PostgreSQL down at start: a valid summary is still written" valid_results "$work/r-pg-down"
wait "$pg_setup"
if [ "$(cat "$pgdir/started" 2>/dev/null)" = 0 ]; then
  etl pg-auth --redis "$good_redis" --postgres "postgresql://kapture:wrong-pg-pw@127.0.0.1:$pg_port/postgres"; rc=$?
  check "wrong PostgreSQL password: exit 3" test $rc = 3
  check "wrong PostgreSQL password: names the endpoint and the server's answer" has pg-auth "postgres 127.0.0.1:$pg_port/postgres: cannot connect: connection to server at \"127.0.0.1\", port $pg_port failed: FATAL: password authentication failed for user \"kapture\""
  check "wrong PostgreSQL password: the password is not printed" hasnt pg-auth "wrong-pg-pw"
else
  check "throwaway PostgreSQL started" false
  cat "$pgdir/initdb.log" "$pgdir/pg.log" 2>/dev/null | tail -20
fi

# --- TLS ---------------------------------------------------------------------
# The engine's own webapp over HTTP/2+TLS with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
"$ENGINE" serve kafka-mock --brokers 1 >"$work/mock.out" 2>"$work/mock.err" &
mock=$!
pids+=("$mock")
wait_for_line "$work/mock.out" . "$mock" 30
"$ENGINE" serve webapp --kafka "$(head -1 "$work/mock.out")" --listen 127.0.0.1:0 --h2-listen 127.0.0.1:0 \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/webapp.out" 2>"$work/webapp.err" &
webapp=$!
pids+=("$webapp")
wait_for_line "$work/webapp.out" '^https://' "$webapp" 30
https_url=$(grep '^https://' "$work/webapp.out")
cat >"$work/tls.yaml" <<EOF
name: tls
workloads:
  get:
    type: http
    url: $https_url/stats
    http: "2"
timeline:
  - phase: load
    duration: 1s
    load: { get: 20/s }
expect:
  - count(http.status_2xx) > 0
EOF
run tls run "$work/tls.yaml" --results "$work/r-tls" --quiet --drain 1; rc=$?
check "TLS verification failure: exit 1 (no response)" test $rc = 1
check "TLS verification failure: names the URL and the reason" has tls "workload get: cannot connect to $https_url/stats: SSL certificate problem: self-signed certificate"
s=$(summary_in "$work/r-tls")
check "TLS verification failure: counted in http.connect_errors" test "$(json "$s" "j['run']['counters']['http.connect_errors'] > 0 and j['run']['counters'].get('http.status_2xx', 0) == 0")" = True
run tls-insecure run "$work/tls.yaml" --results "$work/r-tls-insecure" --quiet --drain 1 --set workloads.get.insecure=true; rc=$?
check "TLS verification failure: the same with insecure: true passes" test $rc = 0
kill -TERM "$webapp"; wait "$webapp"; rc=$?
check "SIGTERM to serve webapp: exit 0" test $rc = 0
kill -INT "$mock"; wait "$mock"; rc=$?
check "SIGINT to serve kafka-mock: exit 0" test $rc = 0

# --- SIGINT and SIGTERM in each phase of a run -------------------------------
# signal_run NAME SIGNAL FILE PATTERN ARGS...: starts a run, sends SIGNAL once
# FILE (events.jsonl, or the engine's stderr: "stderr") matches PATTERN; sets rc.
signal_run() {
  local name=$1 sig=$2 file=$3 pattern=$4; shift 4
  "$ENGINE" run "$@" --results "$work/s-$name" >"$work/s-$name.out" 2>"$work/s-$name.err" &
  local p=$!
  pids+=("$p")
  if [ "$file" = stderr ]; then
    file="$work/s-$name.err"
  else
    file=$(wait_for_file "$work/s-$name/*/events.jsonl" "$p" 60)
  fi
  wait_for_line "$file" "$pattern" "$p" 60 && pgrep -P "$p" >"$work/s-$name.children"
  kill "-$sig" "$p"
  wait "$p"
}
interrupted() {  # interrupted NAME: a valid summary marked interrupted
  local s
  s=$(summary_in "$work/s-$1")
  [ -n "$s" ] && valid_results "$work/s-$1" && [ "$(json "$s" "j['verdict']['interrupted'] and j['verdict']['exit_code'] == 130")" = True ]
}
undone() {  # undone NAME: every injection undone, in the summary and the event log
  local s
  s=$(summary_in "$work/s-$1")
  [ -n "$s" ] && [ "$(json "$s" "len(j['chaos']) >= 1 and all(c['undone'] for c in j['chaos'])")" = True ] &&
    grep -q '"type":"chaos_undo"' "$(dirname "$s")/events.jsonl"
}
ended_by() {  # ended_by NAME PHASE: the phase ended by the interrupt
  local s
  s=$(summary_in "$work/s-$1")
  [ -n "$s" ] && [ "$(json "$s" "[p['ended_by'] for p in j['phases'] if p['name'] == '$2'] == ['interrupt']")" = True ]
}
P="$work/phases.yaml"
# While the target starts: the embedded cluster (SIGINT), and the Redis and
# PostgreSQL the engine starts for the ETL fixture (SIGTERM); the servers it
# started must be gone afterwards.
signal_run start-int INT stderr 'starting embedded target' "$P"; rc=$?
check "SIGINT while the target starts: exit 130" test $rc = 130
check "SIGINT while the target starts: a valid summary marked interrupted" interrupted start-int
signal_run start-term TERM stderr 'starting embedded target' "$F/etl.yaml"; rc=$?
check "SIGTERM while the stores start: exit 130" test $rc = 130
check "SIGTERM while the stores start: a valid summary marked interrupted" interrupted start-term
left=""
for c in $(cat "$work/s-start-term.children" 2>/dev/null); do kill -0 "$c" 2>/dev/null && left="$left $c"; done
check "SIGTERM while the stores start: no server left running" test -z "$left"
# In a load phase, during a chaos injection, in the drain: SIGINT and SIGTERM
# side by side (each in a subshell that keeps its exit code).
phase_pair() {  # phase_pair PHASE PATTERN ARGS...
  local phase=$1 pattern=$2; shift 2
  local subs=() sig
  for sig in INT TERM; do
    ( signal_run "$phase-$sig" "$sig" events "$pattern" "$@"; echo $? >"$work/rc-$phase-$sig" ) &
    subs+=($!)
  done
  wait "${subs[@]}"
}
phase_pair load '"phase":"load".*"type":"phase_start"' "$P"
phase_pair chaos '"type":"chaos_inject"' "$P" --set timeline.load.duration=1s
phase_pair drain '"phase":"drain".*"type":"phase_start"' "$P" --set timeline.load.duration=1s --set timeline.chaos.duration=1s \
  --set 'timeline.chaos.steps=[]'
for sig in INT TERM; do
  check "SIG$sig in a load phase: exit 130" test "$(cat "$work/rc-load-$sig")" = 130
  check "SIG$sig in a load phase: a valid summary marked interrupted" interrupted "load-$sig"
  check "SIG$sig in a load phase: the phase ended by the interrupt" ended_by "load-$sig" load
  check "SIG$sig during a chaos injection: exit 130" test "$(cat "$work/rc-chaos-$sig")" = 130
  check "SIG$sig during a chaos injection: a valid summary marked interrupted" interrupted "chaos-$sig"
  check "SIG$sig during a chaos injection: the injection undone" undone "chaos-$sig"
  check "SIG$sig in the drain: exit 130" test "$(cat "$work/rc-drain-$sig")" = 130
  check "SIG$sig in the drain: a valid summary marked interrupted" interrupted "drain-$sig"
  check "SIG$sig in the drain: the phase ended by the interrupt" ended_by "drain-$sig" drain
done

# --- The README's table cannot drift -----------------------------------------
# Each row's test names (in backticks, in the last column of the table under
# "## Troubleshooting") must be checks here or in cli_exit_codes.sh.
readme_rows_tested() {
  /usr/bin/python3 - "$SRC/README.md" "$SRC/tests/integration/bad_inputs.sh" "$SRC/tests/integration/cli_exit_codes.sh" <<'PY'
import re, sys
readme, *scripts = sys.argv[1:]
text = open(readme).read()
m = re.search(r"^## Troubleshooting\n(.*?)(?=^## )", text, re.S | re.M)
if not m:
    sys.exit("README.md has no '## Troubleshooting' section")
checks = set()
for path in scripts:
    for line in open(path):
        for name in re.findall(r'check "([^"$]*)"', line):
            checks.add(name)
        # checks named in a loop over INT and TERM
        for name in re.findall(r'check "SIG\$sig ([^"$]*)"', line):
            checks.update({"SIGINT " + name, "SIGTERM " + name})
rows = [l for l in m.group(1).splitlines() if l.startswith("|") and not l.startswith("|---")][1:]
problems = []
if len(rows) < 12:
    problems.append(f"only {len(rows)} rows in the table")
for row in rows:
    cells = [c.strip() for c in row.replace("\\|", "").strip().strip("|").split("|")]
    names = re.findall(r"`([^`]+)`", cells[-1])
    if not names:
        problems.append(f"row without a test: {row}")
    for n in names:
        if n not in checks:
            problems.append(f"'{n}' is not a check in bad_inputs.sh or cli_exit_codes.sh")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
}
check "every row of the README's troubleshooting table names checks that exist" readme_rows_tested

echo "bad_inputs: $((SECONDS - started))s"
finish
