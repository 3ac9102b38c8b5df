#!/usr/bin/env bash
# `kapture-engine serve webapp` in front of a real Kafka client stack (the
# engine's mock cluster): POSTs come back with the partition and offset the
# brokers acknowledged, an event-stream reader sees every message, /blocks
# paces its blocks, and bad input gets 400/exit 2.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

# first_line FILE PID SECONDS: the first line a background process printed.
first_line() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    [ -s "$1" ] && head -1 "$1" | grep -q . && { head -1 "$1"; return 0; }
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# until_count FILE PATTERN N SECONDS: waits until FILE has N lines matching.
until_count() {
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

"$ENGINE" serve kafka-mock --brokers 3 --scenario "$F/small.yaml" >"$work/kafka.out" 2>"$work/kafka.err" &
kpid=$!; pids+=("$kpid")
bootstrap=$(first_line "$work/kafka.out" "$kpid" 60)
check "mock cluster up" test -n "$bootstrap"
[ -n "$bootstrap" ] || { cat "$work/kafka.err"; finish; exit 1; }

"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 >"$work/web.out" 2>"$work/web.err" &
wpid=$!; pids+=("$wpid")
url=$(first_line "$work/web.out" "$wpid" 30)
check "webapp up, prints its URL" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$url"
[ -n "$url" ] || { cat "$work/web.err"; finish; exit 1; }

# A reader of new messages, from before the posts.
curl -sN "$url/api/topics/t" >"$work/sse-new.txt" 2>/dev/null &
pids+=($!)
check "event stream answers with keep-alives" until_count "$work/sse-new.txt" '^: keep-alive' 1 10

ok=0
for i in $(seq 1 20); do
  body=$(curl -s -w ' %{http_code}' -X POST --data "{\"seq\":$i,\"text\":\"hello $i\"}" "$url/api/topics/t?key=user$((i % 3))")
  code=${body##* }
  if [ "$code" = 200 ] && grep -q '"offset":[0-9]' <<<"$body" && grep -q '"partition":[0-2]' <<<"$body"; then ok=$((ok + 1)); fi
done
check "20 posts acknowledged with partition and offset ($ok)" test $ok = 20
check "the stream delivered all 20 (data lines)" until_count "$work/sse-new.txt" '^data: {"seq":' 20 15
check "each event has an id partition:offset" test "$(grep -c '^id: [0-2]:[0-9]*$' "$work/sse-new.txt")" = 20
check "every message arrived exactly once" test "$(grep '^data: ' "$work/sse-new.txt" | sort -u | wc -l)" = 20
# A reader from the beginning sees the history too.
timeout 5 curl -sN "$url/api/topics/t?from=beginning" >"$work/sse-all.txt" 2>/dev/null
check "from=beginning replays the 20 messages" test "$(grep -c '^data: {"seq":' "$work/sse-all.txt")" = 20

# /blocks: 5 blocks of 1000 bytes, one every 200 ms.
start=$(date +%s%N)
bytes=$(curl -s "$url/blocks?size=1000&n=5&periodMS=200" | wc -c)
took_ms=$((($(date +%s%N) - start) / 1000000))
check "blocks: 5000 bytes" test "$bytes" = 5000
check "blocks: paced (>= 800 ms, took $took_ms)" test "$took_ms" -ge 800
check "one block has a Content-Length" curl -sI "$url/blocks?size=64" -o "$work/head.txt" -w '' 
check "  ... of 64" grep -qi '^content-length: 64' "$work/head.txt"
check "bad size: 400 naming the parameter" test "$(curl -s -o "$work/bad.txt" -w '%{http_code}' "$url/blocks?size=big")" = 400
check "  ... with a message" grep -q 'size must be an integer' "$work/bad.txt"

# SIGTERM: a clean stop (the open stream ends).
kill -TERM "$wpid"; wait "$wpid"; rc=$?
check "webapp exits 0 on SIGTERM" test $rc = 0

"$ENGINE" serve webapp >"$work/nokafka.out" 2>&1; rc=$?
check "no --kafka: exit 2" test $rc = 2
check "  ... says what is missing" grep -q 'needs --kafka' "$work/nokafka.out"
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:x >"$work/badlisten.out" 2>&1; rc=$?
check "bad --listen: exit 2 naming it" test "$rc,$(grep -c -- "--listen '127.0.0.1:x'" "$work/badlisten.out")" = "2,1"
finish
