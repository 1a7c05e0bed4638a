#!/usr/bin/env bash
# An edge pool under open-loop load, with and without a cloud to overflow to:
#   bench/edge_cluster.sh [REQUESTS_PER_LEVEL=300]
# Edge: three llama-server processes (stories260K, -np 1 -t 1 --metrics -c 2048, each one request at a time),
# one hiro tier of three endpoints (max_concurrent 1). Cloud: fake_upstream answering in 10 tokens 60 ms apart
# (about 0.6 s, as a cloud answer), priced input 3 / output 15 USD per 1M tokens.
# The request: a chat, max_tokens HIRO_EDGE_TOKENS (300) with ignore_eos, greedy. stories260K was trained on a
# 128-token context and llama-server caps its slot to it, so the servers run with --context-shift: an answer is
# then that many tokens long, 100-300 ms here.
# 1. The edge capacity: a closed loop of 3 clients on the edge pool (answers/s), and the busy service time (p50
#    of that run); the deadline D is HIRO_DEADLINE_MS, or 4 busy service times rounded to 10 ms.
# 2. Four set-ups, each a fresh hiro warmed up with 30 requests, each driven by hiro_loadgen --rate at 0.25, 0.5,
#    1, 1.5, 2, 3 and 4 times that capacity, REQUESTS_PER_LEVEL Poisson arrivals per level (the same seeds):
#      edge-only    least_load over the pool, no fallback, queue_timeout_ms 600000 (requests queue, never fail);
#      cloud-only   model: cloud;
#      round-robin  balance: round_robin, fallback: [cloud], no deadline (a request that waited queue_timeout_ms,
#                   10 s by default, for its endpoint goes to the cloud);
#      hiro         balance: least_outstanding, fallback: [cloud], x-hiro-deadline-ms: D (overflow at once).
#    Per level: offered and achieved rate, p50/p95/p99, cloud share (x-hiro-tier counts), cost per 1,000
#    requests (delta of hiro_cost_usd_total on /metrics), errors (non-200 and transport errors).
# 3. `hiro simulate cluster` (when the build has it) at the same rates and deadline, on the edge service times of
#    the hiro set-up's access log: all of them as one distribution (pooled), and per level that level's own
#    (three one-thread servers on two cores answer slower when all three are busy). Its predicted p95 and cloud
#    share next to the live ones, and the share an M/M/c model says must overflow.
# Output (HIRO_BENCH_OUT, default /tmp/edge_cluster-<timestamp>): the table on stdout, edge_cluster.json,
# edge_cluster.svg, readme_table.md, the raw loadgen lines (levels.jsonl), access logs, service-time files and
# the simulator's output; logs go to stderr.
# Env: HIRO_BUILD, HIRO_LLAMA_SERVER, HIRO_MODEL, HIRO_DEADLINE_MS, HIRO_EDGE_TOKENS, HIRO_KEEP_LOGS=DIR (copy process logs there).
set -euo pipefail
bench_name=edge_cluster
source "$(dirname "$0")/harness.sh"
requests=${1:-300}
find_llama_server() {
  [ -n "${HIRO_LLAMA_SERVER:-}" ] && { echo "$HIRO_LLAMA_SERVER"; return; }
  local cached
  cached=$(sed -n 's/^HIRO_LLAMA_SERVER:FILEPATH=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
  [ -n "$cached" ] && [ -x "$cached" ] && { echo "$cached"; return; }
  ls "${HIRO_CACHE:-$HOME/.cache/hiro}"/llama.cpp-*/install/bin/llama-server 2>/dev/null | head -1
}
llama_server=$(find_llama_server)
model=${HIRO_MODEL:-$root/../shared/models/stories260K.gguf}
out=${HIRO_BENCH_OUT:-/tmp/edge_cluster-$(date +%Y%m%d-%H%M%S)}
edge_tokens=${HIRO_EDGE_TOKENS:-300}
cloud_tokens=10 cloud_gap_ms=60
multiples=(0.25 0.5 1 1.5 2 3 4)
hiro_pid=
[ -x "$llama_server" ] || { log "no llama-server (set HIRO_LLAMA_SERVER or run scripts/build-llama)"; exit 1; }
[ -f "$model" ] || { log "no model at $model (set HIRO_MODEL)"; exit 1; }
for b in hiro bench/hiro_loadgen tests/server/fake_upstream; do
  [ -x "$build/$b" ] || { log "missing $build/$b: cmake --build build -j2 --target hiro hiro_loadgen fake_upstream"; exit 1; }
done
mkdir -p "$out"
# A copy of hiro: the build tree may be relinked by someone else while this runs.
cp "$build/hiro" "$work/hiro"
results=$out/levels.jsonl
: > "$results"

# The edge pool and the cloud.
edge_ports=()
for i in 0 1 2; do
  port=$(free_port); edge_ports+=("$port")
  "$llama_server" -m "$model" --host 127.0.0.1 --port "$port" -c 2048 -np 1 -t 1 --metrics --no-webui --context-shift \
    > "$work/llama-$i.log" 2>&1 & pids+=($!)
done
cloud_port=$(free_port); hiro_port=$(free_port)
"$build/tests/server/fake_upstream" "$cloud_port" drip "$cloud_tokens" "$cloud_gap_ms" > "$work/cloud.log" 2>&1 & pids+=($!)
for port in "${edge_ports[@]}" "$cloud_port"; do wait_ok "http://127.0.0.1:$port/health"; done

body() { printf '{"model": "%s", "messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": %d, "ignore_eos": true}' "$1" "$edge_tokens"; }
body edge > "$work/edge.json"; body cloud > "$work/cloud.json"

# hiro_loadgen's JSON line (its table goes to stderr with our logs).
loadgen() {  # URL BODY LABEL ARGS...
  local url=$1 file=$2 label=$3; shift 3
  "$build/bench/hiro_loadgen" --url "$url" --body "$file" --label "$label" --threads 1 --json - "$@" | tail -1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# The cloud's own latency, straight from the fake (what the simulator is told a cloud answer takes).
cloud_run=$(loadgen "http://127.0.0.1:$cloud_port/v1/chat/completions" "$work/cloud.json" "cloud latency" --requests 20 --concurrency 4)
cloud_ms=$(field "$cloud_run" p50_ms)
log "cloud answer: $cloud_ms ms (p50 of 20, straight to fake_upstream)"

# One fresh hiro per set-up.
write_config() {  # SETUP
  local balance=least_load extra=""
  case $1 in
    edge-only) extra="    queue_timeout_ms: 600000" ;;
    cloud-only) ;;
    round-robin) balance=round_robin extra="    fallback: [cloud]" ;;
    hiro) balance=least_outstanding extra="    fallback: [cloud]" ;;
  esac
  {
    echo "listen: 127.0.0.1:$hiro_port"
    echo "access_log: $out/access-$1.jsonl"
    echo "tiers:"
    echo "  - name: edge"
    echo "    balance: $balance"
    [ -n "$extra" ] && echo "$extra"
    echo "    defaults: {temperature: 0}"
    echo "    endpoints:"
    for port in "${edge_ports[@]}"; do echo "      - {base_url: 'http://127.0.0.1:$port/v1', max_concurrent: 1}"; done
    echo "  - {name: cloud, kind: openai, base_url: 'http://127.0.0.1:$cloud_port/v1', prices: {input: 3.0, output: 15.0}}"
  } > "$work/$1.yaml"
}
start_hiro() {  # SETUP
  stop_hiro
  write_config "$1"
  : > "$out/access-$1.jsonl"
  "$work/hiro" serve --config "$work/$1.yaml" >> "$work/hiro-$1.log" 2>&1 & hiro_pid=$!; pids+=($hiro_pid)
  wait_ok "http://127.0.0.1:$hiro_port/health"
}
stop_hiro() {
  if [ -n "$hiro_pid" ]; then kill -TERM "$hiro_pid" 2>/dev/null || true; wait "$hiro_pid" 2>/dev/null || true; hiro_pid=; fi
}
cost_usd() { curl -sf "http://127.0.0.1:$hiro_port/metrics" | awk '/^hiro_cost_usd_total[{ ]/ {s += $NF} END {printf "%.12g\n", s + 0}'; }
hiro_url="http://127.0.0.1:$hiro_port/v1/chat/completions"

# 1. Capacity: three clients, one request each at a time, on the edge-only pool (least_load: a free endpoint
# takes the next request, so the three servers stay busy).
start_hiro edge-only
loadgen "$hiro_url" "$work/edge.json" "warm-up" --requests 30 --concurrency 3 > /dev/null
cap_run=$(loadgen "$hiro_url" "$work/edge.json" "capacity (closed loop, 3)" --requests 120 --concurrency 3)
capacity=$(field "$cap_run" achieved_rate)
busy_service_ms=$(field "$cap_run" p50_ms)
deadline_ms=${HIRO_DEADLINE_MS:-$(python3 -c "print(int(round(4 * $busy_service_ms / 10.0)) * 10)")}
rates=()
for m in "${multiples[@]}"; do rates+=("$(python3 -c "print(round($m * $capacity, 3))")"); done
log "edge pool capacity $capacity answers/s, busy service time $busy_service_ms ms (p50, 3 in flight); deadline $deadline_ms ms"
log "rates: ${rates[*]} requests/s, $requests requests each"
join() { local IFS=,; echo "$*"; }
python3 - "$out/meta.json" <<PY
import json, sys
json.dump({"requests_per_level": $requests, "multiples": [$(join "${multiples[@]}")], "rates": [$(join "${rates[@]}")],
           "capacity_per_s": $capacity, "busy_service_ms": $busy_service_ms, "deadline_ms": $deadline_ms,
           "cloud_ms": $cloud_ms, "edge_tokens": $edge_tokens, "cloud": "fake_upstream drip $cloud_tokens $cloud_gap_ms",
           "capacity_run": json.loads('''$cap_run'''), "cloud_run": json.loads('''$cloud_run'''),
           "load_average_at_start": open("/proc/loadavg").read().split()[:3]}, open(sys.argv[1], "w"), indent=1)
PY

# 2. The levels. Each level's line also says which lines of the access log are its requests.
log_lines() { sleep 0.3; wc -l < "$out/access-$1.jsonl"; }  # the log is written by a background thread
run_levels() {  # SETUP BODY LOADGEN-ARGS...
  local setup=$1 file=$2; shift 2
  local i
  for i in "${!multiples[@]}"; do
    local before after from to line
    before=$(cost_usd); from=$(log_lines "$setup")
    line=$(loadgen "$hiro_url" "$file" "$setup ${multiples[$i]}x" --rate "${rates[$i]}" --requests "$requests" --seed $((i + 1)) "$@")
    after=$(cost_usd); to=$(log_lines "$setup")
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); j.update(setup=sys.argv[2], multiple=float(sys.argv[3]), cost_usd=float(sys.argv[5])-float(sys.argv[4]), log_from=int(sys.argv[6]), log_to=int(sys.argv[7])); print(json.dumps(j))' \
      "$line" "$setup" "${multiples[$i]}" "$before" "$after" "$from" "$to" >> "$results"
  done
}
warm_up() { loadgen "$hiro_url" "$1" "warm-up" --requests 30 --concurrency 3 > /dev/null; }

log "set-up edge-only"
run_levels edge-only "$work/edge.json"

log "set-up cloud-only"
start_hiro cloud-only; warm_up "$work/cloud.json"
run_levels cloud-only "$work/cloud.json"

log "set-up round-robin"
start_hiro round-robin; warm_up "$work/edge.json"
run_levels round-robin "$work/edge.json"

log "set-up hiro (deadline $deadline_ms ms)"
start_hiro hiro; warm_up "$work/edge.json"
run_levels hiro "$work/edge.json" --header "x-hiro-deadline-ms: $deadline_ms"
stop_hiro

# The edge service times hiro saw in the measured levels (not the warm-up), one latency_ms per line: all of
# them (edge_service_ms.txt), and each level's (edge_service_ms.level-N.txt).
service_file=$out/edge_service_ms.txt
python3 - "$results" "$out/access-hiro.jsonl" "$out" <<'PY'
import json, sys
levels = [j for j in map(json.loads, open(sys.argv[1])) if j["setup"] == "hiro"]
log = open(sys.argv[2]).read().splitlines()
with open(f"{sys.argv[3]}/edge_service_ms.txt", "w") as pooled:
    for i, level in enumerate(levels):
        with open(f"{sys.argv[3]}/edge_service_ms.level-{i + 1}.txt", "w") as own:
            for line in log[level["log_from"]:level["log_to"]]:
                for a in json.loads(line).get("attempts", []):
                    if a["tier"] == "edge" and a["outcome"] in ("accepted", "streamed"):
                        print(a["latency_ms"], file=pooled)
                        print(a["latency_ms"], file=own)
PY
log "$(wc -l < "$service_file") edge service times in $service_file"

# 3. The simulator's prediction for the same pool, deadline and rates: once with every service time of the
# hiro set-up (as one distribution, whatever the load), once per level with that level's own service times
# (three one-thread servers on two cores answer slower when all three are busy).
# HOOK: `hiro simulate cluster` (another engineer's work). When the build has no such command, the report
# goes without the prediction columns; this function is the one place to adapt if its options change.
simulate_cluster() {  # OUTPUT-JSON OUTPUT-PER-LEVEL-JSON
  local cmd=()
  if "$work/hiro" simulate cluster --help > /dev/null 2>&1; then cmd=("$work/hiro" simulate cluster)
  elif "$work/hiro" simulate-cluster --help > /dev/null 2>&1; then cmd=("$work/hiro" simulate-cluster)
  else log "no 'hiro simulate cluster' in $build/hiro: no prediction in the report"; return 1; fi
  local cloud_usd
  cloud_usd=$(python3 -c "
import json
rows = [r for r in map(json.loads, open('$results')) if r['setup'] == 'cloud-only']
print(sum(r['cost_usd'] for r in rows) / max(1, sum(r['answered'] for r in rows)))")
  local sim=("${cmd[@]}" --endpoints 3 --slots 1 --cloud-ms "$cloud_ms" --deadline-ms "$deadline_ms" --requests 20000 --cloud-usd "$cloud_usd" --json -)
  "${sim[@]}" --service "$service_file" --rates "$(join "${rates[@]}")" > "$1"
  local i
  : > "$2.tmp"
  for i in "${!rates[@]}"; do
    local own=$out/edge_service_ms.level-$((i + 1)).txt
    [ -s "$own" ] || { log "level $((i + 1)): no edge answer, no per-level prediction"; continue; }
    "${sim[@]}" --service "$own" --rates "${rates[$i]}" >> "$2.tmp"
  done
  mv "$2.tmp" "$2"
}
simulate_cluster "$out/simulate_cluster.json" "$out/simulate_cluster_per_level.json" || rm -f "$out/simulate_cluster.json"

python3 "$root/bench/edge_cluster_report.py" "$out"
