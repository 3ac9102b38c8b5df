#!/usr/bin/env bash
# `kapture-engine serve webapp` in front of a real Kafka client stack (the
# engine's mock cluster): POSTs come back with the partition and offset the
# brokers acknowledged, an event-stream reader sees every message, /blocks
# paces its blocks, and bad input gets 400/exit 2. The same routes over
# HTTP/2 (TLS with ALPN h2 and a self-signed certificate; h2c): the streams
# of one connection are concurrent, which /stats proves for curl and for the
# engine's own http workload.
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

# until_lines FILE N PID SECONDS: waits until a background process printed N lines.
until_lines() {
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
check "a self-signed certificate for HTTP/2 over TLS" test -s "$work/cert.pem"

"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 \
  --h2-listen 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/web.out" 2>"$work/web.err" &
wpid=$!; pids+=("$wpid")
until_lines "$work/web.out" 2 "$wpid" 30
url=$(sed -n 1p "$work/web.out")
h2url=$(sed -n 2p "$work/web.out")
check "webapp up, prints its URL" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$url"
check "  ... and its HTTP/2 URL on the second line" grep -q '^https://127.0.0.1:[0-9]*$' <<<"$h2url"
[ -n "$url" ] && [ -n "$h2url" ] || { cat "$work/web.err"; finish; exit 1; }

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

# --- HTTP/2 over TLS (ALPN h2) ---
# stats NAME: /stats, asked over HTTP/1.1 (so that asking is no HTTP/2
# stream), into $work/stats-NAME.json.
stats() { curl -s "$url/stats" >"$work/stats-$1.json"; }
# h2stat NAME KEY: http2.KEY of a saved /stats.
h2stat() { json "$work/stats-$1.json" "j['http2']['$2']"; }
# delta BEFORE AFTER KEY: how much http2.KEY grew between two of them.
delta() { echo $(($(h2stat "$2" "$3") - $(h2stat "$1" "$3"))); }
stats h2-start
check "/stats: HTTP/2 counters start at 0" test "$(h2stat h2-start connections),$(h2stat h2-start streams)" = "0,0"

out=$(curl -sk --http2 -o "$work/blocks-h2.bin" -w '%{http_version} %{http_code} %{size_download}' "$h2url/blocks?size=1000&n=3")
check "h2: /blocks answers 3000 bytes over HTTP/2 ($out)" test "$out" = "2 200 3000"
check "  ... of blocks" test "$(tr -d k <"$work/blocks-h2.bin" | wc -c)" = 0
out=$(curl -sk --http2 -o "$work/post-h2.json" -w '%{http_version} %{http_code}' -X POST --data '{"seq":21,"text":"over h2"}' "$h2url/api/topics/t?key=user1")
check "h2: POST answered over HTTP/2 ($out)" test "$out" = "2 200"
check "  ... once acknowledged, with partition and offset" grep -Eq '^\{"offset":[0-9]+,"partition":[0-2],"topic":"t"\}$' "$work/post-h2.json"
check "h2: bad size: 400" test "$(curl -sk --http2 -o /dev/null -w '%{http_code}' "$h2url/blocks?size=big")" = 400
curl -skN --http2 "$h2url/api/topics/t?from=beginning" >"$work/sse-h2.txt" 2>/dev/null &
ssepid=$!; pids+=("$ssepid")
check "h2: the event stream replays all 21 messages" until_count "$work/sse-h2.txt" '^data: {"seq":' 21 15
kill "$ssepid" 2>/dev/null
stats h2-single
check "h2: one request per connection so far: never 2 streams at once" test "$(h2stat h2-single max_concurrent_streams_seen)" = 1

# A slow /blocks (5 x 200 ms) and a quick one on the same connection: the
# quick one is not held up behind the slow one. curl --parallel waits for
# the first connection and multiplexes; -w prints as each transfer ends.
curl -sk --http2 --parallel -w '%{url} %{time_total} %{num_connects} %{size_download}\n' \
  -o /dev/null "$h2url/blocks?size=1000&n=5&periodMS=200" -o /dev/null "$h2url/blocks?size=10" >"$work/parallel.txt" 2>/dev/null
stats h2-parallel
cat "$work/parallel.txt"
check "h2 multiplexing: the quick request ended first" grep -q 'size=10 ' <(head -1 "$work/parallel.txt")
check "  ... the slow one took its 800 ms for its 5000 bytes" awk '/periodMS/ { exit !($2 >= 0.8 && $4 == 5000) }' "$work/parallel.txt"
check "  ... both on one new connection" test "$(delta h2-single h2-parallel connections),$(delta h2-single h2-parallel streams)" = "1,2"
check "  ... as 2 streams open at once" test "$(h2stat h2-parallel max_concurrent_streams_seen)" = 2

# The engine's http workload: 500 POSTs, 50 at a time, over one HTTP/2 connection.
cat >"$work/h2load.yaml" <<EOF
name: webapp-h2
workloads:
  chat:
    type: http
    url: $h2url/api/topics/t
    method: POST
    headers: { Content-Type: application/json }
    body: '{"text":"over one HTTP/2 connection"}'
    http: "2"
    insecure: true
    connections: 1
    closed: { concurrency: 50, requests: 500 }
timeline:
  - phase: all
    until: "count(http.responses) >= 500"
    timeout: 60s
expect:
  - count(http.status_2xx) == 500
  - count(http.connections) == 1
EOF
"$ENGINE" run "$work/h2load.yaml" --results "$work/r-h2load" --quiet >"$work/h2load.out" 2>"$work/h2load.err"; rc=$?
stats h2-load
check "h2 load: exit 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$work/h2load.out" "$work/h2load.err"
summary=$(ls "$work"/r-h2load/*/summary.json 2>/dev/null | head -1)
check "h2 load: summary.json counts 500 2xx" test "$([ -n "$summary" ] && json "$summary" "[e['measured'] for e in j['expectations'] if 'status_2xx' in e['expect']][0]")" = 500.0
check "h2 load: the webapp saw 1 new HTTP/2 connection" test "$(delta h2-parallel h2-load connections)" = 1
check "h2 load: ... that carried 500 streams" test "$(delta h2-parallel h2-load streams)" = 500
max=$(h2stat h2-load max_concurrent_streams_seen)
check "h2 load: ... up to $max at once (more than curl's 2)" test "$max" -gt 2
check "/stats: HTTP/1.1 connections and requests counted" test "$(json "$work/stats-h2-load.json" "j['http1']['connections'] >= 1 and j['http1']['requests'] >= 5")" = True

# SIGTERM: a clean stop (the open streams end).
kill -TERM "$wpid"; wait "$wpid"; rc=$?
check "webapp exits 0 on SIGTERM" test $rc = 0

"$ENGINE" serve webapp >"$work/nokafka.out" 2>&1; rc=$?
check "no --kafka: exit 2" test $rc = 2
check "  ... says what is missing" grep -q 'needs --kafka' "$work/nokafka.out"
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:x >"$work/badlisten.out" 2>&1; rc=$?
check "bad --listen: exit 2 naming it" test "$rc,$(grep -c -- "--listen '127.0.0.1:x'" "$work/badlisten.out")" = "2,1"

# HTTP/2 refusals name the file or the address.
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 --h2-listen 127.0.0.1:0 \
  --tls-cert "$work/missing.pem" --tls-key "$work/key.pem" >"$work/badcert.out" 2>&1; rc=$?
cat "$work/badcert.out"
check "missing --tls-cert: exit 2 naming the file" test "$rc,$(grep -c -- "--tls-cert $work/missing.pem: cannot read it: No such file" "$work/badcert.out")" = "2,1"
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 --h2-listen 127.0.0.1:0 \
  --tls-cert "$work/key.pem" --tls-key "$work/key.pem" >"$work/notcert.out" 2>&1; rc=$?
check "a key as --tls-cert: exit 2 naming the file" test "$rc,$(grep -c -- "--tls-cert $work/key.pem: not a PEM certificate" "$work/notcert.out")" = "2,1"
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/nolisten.out" 2>&1; rc=$?
check "--tls-cert without --h2-listen: exit 2 saying so" test "$rc,$(grep -c -- "with --h2-listen" "$work/nolisten.out")" = "2,1"

# Cleartext h2c (prior knowledge), and a second webapp on its port.
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 --h2-listen 127.0.0.1:0 >"$work/h2c.out" 2>"$work/h2c.err" &
cpid=$!; pids+=("$cpid")
until_lines "$work/h2c.out" 2 "$cpid" 30
h2c=$(sed -n 2p "$work/h2c.out")
check "h2c: an http:// HTTP/2 URL on the second line" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$h2c"
check "h2c: /blocks over HTTP/2 with prior knowledge" test "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{size_download}' "$h2c/blocks?size=64")" = "2 64"
"$ENGINE" serve webapp --kafka "$bootstrap" --listen 127.0.0.1:0 --h2-listen "${h2c#http://}" >"$work/inuse.out" 2>&1; rc=$?
check "--h2-listen on a taken port: exit 2 naming the address" test "$rc,$(grep -c -- "--h2-listen ${h2c#http://}: cannot listen on ${h2c#http://}: Address already in use" "$work/inuse.out")" = "2,1"
kill -TERM "$cpid"; wait "$cpid"; rc=$?
check "h2c webapp exits 0 on SIGTERM" test $rc = 0
finish
