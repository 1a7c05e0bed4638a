#!/usr/bin/env bash
# The gateway's overhead and robustness, measured against its references in one run:
#   bench/gateway_load.sh [REQUESTS=2000] [CONCURRENCY=8]
# 1. the same chat request (4 greedy tokens from stories260K) sent straight to
#    llama-server, through hiro, and through nginx proxy_pass: p50/p99 and req/s,
#    over one connection (what each hop adds) and over many (throughput);
# 2. 10,000 requests through hiro while llama-server is killed and restarted
#    once in the middle, twice: to a tier with retry_budget_ms (requests wait
#    for the upstream to come back) and to one without (they fail at once):
#    how many were answered, and how many got an explicit error (an HTTP error
#    status); transport errors would be lost requests.
set -euo pipefail
bench_name=gateway_load
source "$(dirname "$0")/harness.sh"
requests=${1:-2000}
concurrency=${2:-8}
llama_server=$(ls "${HIRO_CACHE:-$HOME/.cache/hiro}"/llama.cpp-*/install/bin/llama-server | head -1)
model=$root/../shared/models/stories260K.gguf

llama_port=$(free_port); hiro_port=$(free_port); nginx_port=$(free_port)
start_llama() {
  "$llama_server" -m "$model" --host 127.0.0.1 --port "$llama_port" -c 2048 -np 8 -t 1 --no-webui > "$work/llama.log" 2>&1 &
  llama_pid=$!; pids+=("$llama_pid")
  wait_ok "http://127.0.0.1:$llama_port/health"
}
start_llama

cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:$hiro_port
tiers:
  - {name: llama, kind: openai, base_url: 'http://127.0.0.1:$llama_port/v1', circuit_breaker: {failures: 0}}
  - {name: llama-patient, kind: openai, base_url: 'http://127.0.0.1:$llama_port/v1', retry_budget_ms: 10000}
YAML
"$build/hiro" serve --config "$work/gateway.yaml" > "$work/hiro.log" 2>&1 & pids+=($!)
wait_ok "http://127.0.0.1:$hiro_port/health"

mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  upstream llama { server 127.0.0.1:$llama_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://llama; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
NGINX
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
wait_ok "http://127.0.0.1:$nginx_port/health"

body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 4, "temperature": 0}' "$1"; }
body llama > "$work/direct.json"
body llama > "$work/hiro.json"
body llama-patient > "$work/patient.json"
results=${HIRO_BENCH_JSON:-$work/results.jsonl}
load() { "$build/bench/hiro_loadgen" --url "$1" --body "$2" --requests "$3" --concurrency "${5:-$concurrency}" --label "$4" --json "$results"; }

log "warm-up"
load "http://127.0.0.1:$llama_port/v1/chat/completions" "$work/direct.json" 200 warm-up > /dev/null
load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$work/hiro.json" 200 warm-up > /dev/null
# One connection: no queueing, so p50 differences are what each hop adds.
echo "== $((requests / 2)) requests, 1 connection, same request on each path"
load "http://127.0.0.1:$llama_port/v1/chat/completions" "$work/direct.json" $((requests / 2)) "direct llama-server" 1
load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$work/hiro.json" $((requests / 2)) "through hiro" 1
load "http://127.0.0.1:$nginx_port/v1/chat/completions" "$work/direct.json" $((requests / 2)) "through nginx" 1
echo "== $requests requests, $concurrency connections, same request on each path (interleaved, 2 rounds)"
for round in 1 2; do
  load "http://127.0.0.1:$llama_port/v1/chat/completions" "$work/direct.json" "$requests" "direct llama-server #$round"
  load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$work/hiro.json" "$requests" "through hiro #$round"
  load "http://127.0.0.1:$nginx_port/v1/chat/completions" "$work/direct.json" "$requests" "through nginx #$round"
done

restart_under_load() {  # BODY LABEL
  echo "== 10000 requests through hiro ($2); llama-server killed and restarted in the middle"
  load "http://127.0.0.1:$hiro_port/v1/chat/completions" "$1" 10000 "$2" &
  local loader=$!
  sleep 2
  log "killing llama-server (SIGKILL) and restarting it"
  local down=$(date +%s.%N)
  kill -9 "$llama_pid"; wait "$llama_pid" 2>/dev/null || true
  sleep 0.5
  start_llama
  log "llama-server was down for $(python3 -c "import time; print(round(time.time() - $down, 2))") s"
  wait "$loader" || true
}
restart_under_load "$work/patient.json" "retry_budget_ms 10000"
restart_under_load "$work/hiro.json" "no retry budget"
[ -n "${HIRO_BENCH_JSON:-}" ] && log "results appended to $HIRO_BENCH_JSON"
