#!/usr/bin/env bash
# Requests in flight: hiro and nginx proxy_pass in front of the same dripping
# upstream, driven by the same closed-loop streaming load (bench/hiro_loadgen).
#   bench/gateway_streams.sh [CLIENTS_A=1000] [CLIENTS_B=10000]
# A: CLIENTS_A clients, each streaming 5 answers of 10 tokens 100 ms apart (1-second answers).
# B: CLIENTS_B clients, each streaming 2 answers of 10 tokens 1 s apart (10-second answers, as a long
#    cloud generation: this measures holding streams, not CPU per chunk).
# Prints req/s of both paths and hiro's ratio to nginx, every answer's status, and hiro's peak RSS and
# RSS per in-flight stream (the rise over its idle RSS during B, divided by B's streams).
# A proxy holds two sockets per stream: CLIENTS_B is capped by the hard file-descriptor limit.
set -euo pipefail
bench_name=gateway_streams
source "$(dirname "$0")/harness.sh"
clients_a=${1:-1000}
clients_b=${2:-10000}
ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -Hn)
max_clients=$(( (fd_limit - 100) / 2 ))
if [ "$clients_b" -gt "$max_clients" ]; then
  log "the hard file-descriptor limit is $fd_limit (ulimit -Hn; raising it needs CAP_SYS_RESOURCE): a proxy holding"
  log "two sockets per stream can hold $max_clients streams, so B runs with $max_clients clients instead of $clients_b"
  clients_b=$max_clients
fi

drip_a=$(free_port); drip_b=$(free_port); hiro_port=$(free_port); nginx_port=$(free_port)
"$build/tests/server/fake_upstream" "$drip_a" drip 10 100 > "$work/drip_a.log" 2>&1 & pids+=($!)
"$build/tests/server/fake_upstream" "$drip_b" drip 10 1000 > "$work/drip_b.log" 2>&1 & pids+=($!)
wait_ok "http://127.0.0.1:$drip_a/health"; wait_ok "http://127.0.0.1:$drip_b/health"

# Both proxies alike: nginx's default proxy_connect_timeout (60 s), and as many idle
# kept-alive upstream connections per I/O thread as nginx keeps per worker (1024).
cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:$hiro_port
limits: {max_inflight: $max_clients}
tiers:
  - {name: drip-a, kind: openai, base_url: 'http://127.0.0.1:$drip_a/v1', circuit_breaker: {failures: 0},
     timeout: {connect_ms: 60000}, max_idle_connections: 1024}
  - {name: drip-b, kind: openai, base_url: 'http://127.0.0.1:$drip_b/v1', circuit_breaker: {failures: 0},
     timeout: {connect_ms: 60000}, max_idle_connections: 1024}
YAML
# A fresh hiro per scenario: B needs every descriptor, and its idle RSS is the baseline.
start_hiro() {
  [ -n "${hiro_pid:-}" ] && kill -TERM "$hiro_pid" && wait "$hiro_pid" || true
  "$build/hiro" serve --config "$work/gateway.yaml" >> "$work/hiro.log" 2>&1 & hiro_pid=$!; pids+=($hiro_pid)
  wait_ok "http://127.0.0.1:$hiro_port/health"
}

mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
worker_rlimit_nofile $fd_limit;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections $fd_limit; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  upstream drip_a { server 127.0.0.1:$drip_a; keepalive 1024; }
  upstream drip_b { server 127.0.0.1:$drip_b; keepalive 1024; }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 60s;
    location /a/ { proxy_pass http://drip_a/; }
    location /b/ { proxy_pass http://drip_b/; }
  }
}
NGINX
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
wait_ok "http://127.0.0.1:$nginx_port/a/health"

body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "Once upon a time"}], "stream": true}' "$1"; }
body drip-a > "$work/a.json"; body drip-b > "$work/b.json"
results=${HIRO_BENCH_JSON:-$work/results.jsonl}
load() { "$build/bench/hiro_loadgen" --stream --url "$1" --body "$2" --concurrency "$3" --requests "$4" --label "$5" --json "$results"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$hiro_pid/status"; }
rate() { tail -n "$1" "$results" | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])'; }

echo "== A: $clients_a clients, 10 tokens 100 ms apart, 5 answers each"
start_hiro
load "http://127.0.0.1:$nginx_port/a/v1/chat/completions" "$work/a.json" "$clients_a" $((clients_a * 5)) "A through nginx"
load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$work/a.json" "$clients_a" $((clients_a * 5)) "A through hiro"
echo "   hiro / nginx: $(python3 -c "print(round($(rate 1) / $(rate 2), 3))")x"

echo "== B: $clients_b clients, 10 tokens 1 s apart, 2 answers each"
load "http://127.0.0.1:$nginx_port/b/v1/chat/completions" "$work/b.json" "$clients_b" $((clients_b * 2)) "B through nginx"
start_hiro
idle=$(rss_kib)
peak=$idle
load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$work/b.json" "$clients_b" $((clients_b * 2)) "B through hiro" &
loader=$!
while kill -0 "$loader" 2>/dev/null; do r=$(rss_kib); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
wait "$loader"
echo "   hiro / nginx: $(python3 -c "print(round($(rate 1) / $(rate 2), 3))")x"
echo "   hiro RSS (fresh process): idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB (VmHWM $(awk '/^VmHWM/ {print int($2/1024)}' /proc/$hiro_pid/status) MiB), $(( (peak - idle) / clients_b )) KiB per in-flight stream"
[ -n "${HIRO_BENCH_JSON:-}" ] && log "results appended to $HIRO_BENCH_JSON"
exit 0
