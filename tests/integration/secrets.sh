#!/usr/bin/env bash
# Secrets never reach results, stdout or stderr; TLS verification is on unless
# a scenario turns it off, and turning it off is a warning in the results;
# Lua opting out of its sandbox is recorded.
#
# Real runs use distinctive secrets: a Redis password (redis-server with
# requirepass), a PostgreSQL password (a server of our own with scram
# authentication), Kafka SASL properties, an HTTP Authorization header (an
# HTTPS server of our own that answers 401 without it), a kubeconfig bearer
# token. Each run first shows the secret was really used (the store accepted
# the password, the server answered 200), then every file of its results
# directory and its captured stdout and stderr are searched for each secret.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
F="$SRC/tests/integration/fixtures"

REDIS_PW="redisPw-Q7v3Lk9x"
PG_PW="pgPw-Zr8Tn2Wq"
SASL_PW="saslPw-M4c8Ya1e"
SSL_KEY_PW="sslKeyPw-H6d2Jp0u"
BEARER="bearerTok-X9f4Rb7s"
KUBE_TOKEN="kubeTok-P3w8Ne5m"
SECRETS=("$REDIS_PW" "$PG_PW" "$SASL_PW" "$SSL_KEY_PW" "$BEARER" "$KUBE_TOKEN")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# no_secrets NAME: neither the results directory of run NAME nor its captured
# output holds any secret (plain or %-encoded).
no_secrets() {
  local name=$1 s hits="" f
  local paths=("$work/$name")
  # Only paths that exist: grep exits 2 on a missing one even when it found a match.
  for f in "$work/$name.out" "$work/$name.err"; do [ -e "$f" ] && paths+=("$f"); done
  for s in "${SECRETS[@]}"; do
    if grep -rlF -- "$s" "${paths[@]}"; then hits="$hits $s"; fi
  done
  [ -z "$hits" ] || { echo "  secrets found:$hits"; return 1; }
}
summary_of() { ls "$work/$1"/*/summary.json 2>/dev/null | head -1; }
run_case() {  # run_case NAME SCENARIO ARGS... -> exit code in $rc; results in $work/NAME
  local name=$1 scenario=$2; shift 2
  "$ENGINE" run "$scenario" --results "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  [ -n "$(summary_of "$name")" ] || { echo "  no summary for $name (exit $rc):"; tail -5 "$work/$name.err"; }
}
tls_warnings() { json "$(summary_of "$1")" "len([w for w in j['warnings'] if w['kind'] == 'tls_verification_off'])"; }

# The search itself must find a secret where there is one.
mkdir -p "$work/planted"
echo "error: auth failed for $SASL_PW" >"$work/planted/events.jsonl"
finds_planted() { ! no_secrets planted >/dev/null; }
check "the secret search finds a planted secret" finds_planted

# ---- Redis with a password, PostgreSQL with a password ----
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --requirepass "$REDIS_PW" --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_port=$(free_port)
mkdir -p "$work/pg"
echo "$PG_PW" >"$work/pg/pwfile"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown -R postgres "$work/pg" && chmod 711 "$work"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U kapture --pwfile="$work/pg/pwfile" --auth=scram-sha-256 >"$work/pg/initdb.log" 2>&1
"${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 -k "$work/pg" >"$work/pg/log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 60))
until PGPASSWORD="$PG_PW" "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kapture -d postgres -qtAc 'select 1' >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || break
  sleep 0.2
done
check "PostgreSQL refuses a wrong password" test "$(PGPASSWORD=nope "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kapture -d postgres -qtAc 'select 1' 2>&1 | grep -c 'password authentication failed')" = 1
check "Redis refuses a missing password" test "$(redis-cli -p "$redis_port" ping 2>&1 | grep -c NOAUTH)" = 1

REDIS_URL="redis://:$REDIS_PW@127.0.0.1:$redis_port/0"
PG_URL="postgresql://kapture:$PG_PW@127.0.0.1:$pg_port/postgres"

# The ETL pipeline into both, Kafka clients with SASL properties, the producer's
# Lua allowed os. Properties by --set so the scenario file is the fixture's.
stores_args=(--redis "$REDIS_URL" --postgres "$PG_URL"
  --set "topology.kafka.properties.sasl.username=kapture" --set "topology.kafka.properties.sasl.password=$SASL_PW"
  --set "topology.kafka.properties.ssl.key.password=$SSL_KEY_PW"
  --set "workloads.tx.allow=[os]" --set timeline.load.duration=4s)
run_case stores "$F/etl.yaml" "${stores_args[@]}"
s=$(summary_of stores)
check "stores with passwords: exit 0" test "$rc" = 0
if [ -n "$s" ]; then
  check "stores with passwords: the ledger was checked against PostgreSQL (the password worked)" \
    test "$(json "$s" "j['ledger']['checked'] and j['ledger']['verified_against'] == 'postgres' and j['ledger']['rows'] == j['ledger']['acked'] > 0")" = True
  check "stores with passwords: Redis got the aggregates (the password worked)" \
    test "$(redis-cli -p "$redis_port" -a "$REDIS_PW" --no-auth-warning dbsize)" -gt 0
  check "stores with passwords: the Lua opt-in is recorded" \
    test "$(json "$s" "[(o['workload'], o['type'], o['allow']) for o in j['lua_opt_ins']] == [('tx', 'kafka-producer', ['os'])] and any(w['kind'] == 'lua_sandbox_opened' for w in j['warnings'])")" = True
  check "stores with passwords: no TLS warning" test "$(tls_warnings stores)" = 0
fi
check "stores with passwords: no secret in results, stdout or stderr" no_secrets stores

# Wrong passwords: the errors are where secrets leak.
run_case badredis "$F/etl.yaml" --redis "redis://:wrong-$REDIS_PW@127.0.0.1:$redis_port/0" --postgres "$PG_URL" --set timeline.load.duration=2s
check "wrong Redis password: the run fails" test "$rc" != 0
check "wrong Redis password: the error says so" grep -qiE "WRONGPASS|invalid password|AUTH" "$work/badredis.err" "$work/badredis.out" "$(summary_of badredis)"
check "wrong Redis password: no secret in results, stdout or stderr" no_secrets badredis
run_case badpg "$F/etl.yaml" --redis "$REDIS_URL" --postgres "postgresql://kapture:wrong-$PG_PW@127.0.0.1:$pg_port/postgres" --set timeline.load.duration=2s
check "wrong PostgreSQL password: the run fails" test "$rc" != 0
check "wrong PostgreSQL password: libpq's error is there" grep -rq "password authentication failed" "$work/badpg" "$work/badpg.err" "$work/badpg.out"
check "wrong PostgreSQL password: no secret in results, stdout or stderr" no_secrets badpg

# A Kafka property librdkafka refuses: its error used to quote the value.
run_case badprop "$F/etl.yaml" --redis "$REDIS_URL" --postgres "$PG_URL" --set "workloads.tx.properties.sasl.password.typo=$SASL_PW"
check "refused Kafka property: the run fails" test "$rc" != 0
check "refused Kafka property: the error names the property" grep -rq "sasl.password.typo" "$work/badprop" "$work/badprop.err"
check "refused Kafka property: no secret in results, stdout or stderr" no_secrets badprop

# plan and validate print the scenario back.
"$ENGINE" plan "$F/etl.yaml" "${stores_args[@]}" >"$work/plan.out" 2>"$work/plan.err"
check "plan: prints the timeline" grep -q "timeline:" "$work/plan.out"
mkdir -p "$work/plan"
check "plan: no secret on stdout or stderr" no_secrets plan

# ---- HTTPS with a self-signed certificate and an Authorization header ----
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
https_port=$(free_port)
cat >"$work/https.py" <<'EOF'
import http.server, ssl, sys
port, cert, key, token = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        got = self.headers.get("Authorization", "")
        ok = got == "Bearer " + token
        # A 401 quotes what it got, as some servers do: bait for a leak.
        body = b"ok" if ok else ("rejected Authorization: " + got).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
python3 "$work/https.py" "$https_port" "$work/cert.pem" "$work/key.pem" "$BEARER" >"$work/https.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 20))
until curl -fsk -o /dev/null -H "Authorization: Bearer $BEARER" "https://127.0.0.1:$https_port/"; do
  [ $SECONDS -lt $deadline ] || break
  sleep 0.1
done
http_scenario() {  # http_scenario FILE INSECURE TOKEN
  cat >"$1" <<EOF
name: secrets-http
workloads:
  api:
    type: http
    url: https://127.0.0.1:$https_port/
    headers: { Authorization: "Bearer $3" }
    insecure: $2
    closed: { concurrency: 2, requests: 20 }
timeline:
  - phase: all
    until: "count(http.responses) + count(http.errors) + count(http.connect_errors) >= 20"
    timeout: 20s
expect:
  - count(http.status_2xx) == 20
EOF
}
http_scenario "$work/insecure.yaml" true "$BEARER"
run_case insecure "$work/insecure.yaml"
s=$(summary_of insecure)
check "insecure: true: exit 0 (TLS accepted, the bearer token accepted)" test "$rc" = 0
if [ -n "$s" ]; then
  check "insecure: true: one TLS warning in summary.json naming the workload" \
    test "$(json "$s" "[w['message'] for w in j['warnings'] if w['kind'] == 'tls_verification_off' and \"'api'\" in w['message'] and 'insecure: true' in w['message']].__len__()")" = 1
  check "insecure: true: the warning is in summary.md" grep -q "tls_verification_off.*'api'" "$(dirname "$s")/summary.md"
  check "insecure: true: the warning is in report.html" grep -q 'class="warning">warning: http &apos;api&apos;' "$(dirname "$s")/report.html"
  check "insecure: true: the warning went to stderr" grep -q "warning: http 'api'" "$work/insecure.err"
  check "insecure: true: no Lua opt-in" test "$(json "$s" "j['lua_opt_ins']")" = "[]"
fi
check "insecure: true: no secret in results, stdout or stderr" no_secrets insecure

http_scenario "$work/verified.yaml" false "$BEARER"
run_case verified "$work/verified.yaml"
s=$(summary_of verified)
check "verification on by default: the self-signed certificate is refused (exit 1)" test "$rc" = 1
[ -n "$s" ] && check "verification on by default: no request succeeded, no TLS warning" \
  test "$(json "$s" "j['run']['counters']['http.status_2xx'] == 0 and j['run']['counters']['http.errors'] + j['run']['counters']['http.connect_errors'] > 0 and not [w for w in j['warnings'] if w['kind'] == 'tls_verification_off']")" = True
check "verification on by default: no secret in results, stdout or stderr" no_secrets verified

# A wrong token: the server's 401 quotes it back.
http_scenario "$work/unauthorized.yaml" true "wrong-$BEARER"
run_case unauthorized "$work/unauthorized.yaml"
check "wrong bearer token: refused (exit 1)" test "$rc" = 1
check "wrong bearer token: no secret in results, stdout or stderr" no_secrets unauthorized

# ---- kubeconfig: a bearer token and insecure-skip-tls-verify ----
kport=$(free_port)  # nothing listens there
cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: { server: "https://127.0.0.1:$kport", insecure-skip-tls-verify: true }
users:
  - name: u
    user: { token: "$KUBE_TOKEN" }
contexts:
  - name: x
    context: { cluster: c, user: u }
current-context: x
EOF
cat >"$work/kube.yaml" <<'EOF'
name: secrets-kube
target: kubernetes
topology:
  kubernetes: { deploy: [] }
timeline:
  - phase: p
    duration: 1s
EOF
run_case kube "$work/kube.yaml" --target kubernetes --kubeconfig "$work/kubeconfig" -n kapture-secrets
s=$(summary_of kube)
check "kubeconfig: the unreachable API server fails the run (exit 3)" test "$rc" = 3
[ -n "$s" ] && check "kubeconfig: insecure-skip-tls-verify is a TLS warning" \
  test "$(json "$s" "[w for w in j['warnings'] if w['kind'] == 'tls_verification_off' and 'insecure-skip-tls-verify' in w['message']].__len__()")" = 1
check "kubeconfig: no secret in results, stdout or stderr" no_secrets kube

# Every summary still matches the schema (warnings and lua_opt_ins included).
check "summaries match schemas/results.schema.json" /usr/bin/python3 "$SRC/tests/schema/validate_results.py" "$work"/{stores,insecure,verified,kube}/*/
finish
