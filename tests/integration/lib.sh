# Helpers shared by the integration tests. Source it; set ENGINE and SRC first.
work=$(mktemp -d /tmp/kapture-it.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# wait_for_file GLOB PID SECONDS: readiness by polling for a file the engine
# writes, giving up if the process dies or the deadline passes.
wait_for_file() {
  local glob=$1 pid=$2 deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    # shellcheck disable=SC2086
    for f in $glob; do [ -e "$f" ] && { echo "$f"; return 0; }; done
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# json FILE PYTHON-EXPR: evaluates an expression over the parsed JSON as `j`.
json() {
  /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# run_kept SCENARIO [ENGINE ARGS...]: runs the engine with --keep-cluster in
# the background and waits (readiness: bootstrap.txt appears) until the run is
# over and the cluster kept. Sets pid, dir, bootstrap and summary, prints the
# console output and names failed expectations. Returns 1 (after printing
# what the engine said) if the run never got that far.
run_kept() {
  local scenario=$1; shift
  "$ENGINE" run "$scenario" --results "$work/results" --keep-cluster "$@" >"$work/stdout" 2>"$work/stderr" &
  pid=$!
  pids+=("$pid")
  local bootstrap_file
  bootstrap_file=$(wait_for_file "$work/results/*/bootstrap.txt" "$pid" 600)
  check "engine finished the run and kept the cluster" test -n "$bootstrap_file"
  if [ -z "$bootstrap_file" ]; then
    cat "$work/stdout" "$work/stderr"
    return 1
  fi
  dir=$(dirname "$bootstrap_file")
  bootstrap=$(cat "$bootstrap_file")
  summary="$dir/summary.json"
  cat "$work/stdout"
  json "$summary" "'\n'.join('FAILED EXPECTATION: %s measured %s' % (e['expect'], e['measured_text']) for e in j['expectations'] if not e['pass'])"
}

# stop_kept: SIGTERM to the engine keeping the cluster; checks it exits 0.
stop_kept() {
  kill -TERM "$pid"
  wait "$pid"
  check "engine exits 0 after the kept cluster is stopped" test "$?" = 0
}
