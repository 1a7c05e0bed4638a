#!/usr/bin/env bash
# What checking a key's limits adds to a request, in one run:
#   bench/limits.sh [REQUESTS=2000] [ROUNDS=5]
# Three gateways in front of the same fast fake upstream (one token, no delay,
# so hiro's own work is what is measured), each sent the same chat request over
# one keep-alive connection, interleaved round by round:
#   none   no limits (the path every request takes anyway: usage counted in-process)
#   local  requests, tokens and both budgets limited, in this process
#   redis  the same limits shared through a redis-server on loopback
# Reports each path's p50 (median over the rounds) and the difference to
# `none`, with hiro's (and Redis's) CPU time per request beside it, as wall
# clock on a shared 2-core machine is noisy. Target: redis - none <= 0.2 ms.
set -euo pipefail
bench_name=limits
source "$(dirname "$0")/harness.sh"
requests=${1:-2000}
rounds=${2:-5}
cpu_ms() { awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }

upstream=$(free_port); redis=$(free_port)
"$build/tests/server/fake_upstream" "$upstream" drip 1 0 > "$work/upstream.log" 2>&1 & pids+=($!)
wait_ok "http://127.0.0.1:$upstream/health"
redis-server --port "$redis" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 & redis_pid=$!; pids+=($redis_pid)
for _ in $(seq 100); do redis-cli -p "$redis" ping > /dev/null 2>&1 && break; sleep 0.05; done

declare -A port pid
for path in none local redis; do
  port[$path]=$(free_port)
  {
    echo "listen: 127.0.0.1:${port[$path]}"
    echo "io_threads: 1"
    echo "api_keys: [{name: bench, key: sk-bench}]"
    [ "$path" != none ] && echo "limits: {per_key: {requests_per_minute: 100000000, tokens_per_minute: 1000000000000, budget_usd_per_day: 1000000, budget_usd_per_month: 1000000}}"
    [ "$path" = redis ] && echo "state: {redis: 'redis://127.0.0.1:$redis/0', on_unavailable: closed}"
    echo "tiers: [{name: up, kind: openai, base_url: 'http://127.0.0.1:$upstream/v1', prices: {input: 0.1, output: 0.4}}]"
  } > "$work/$path.yaml"
  "$build/hiro" serve --config "$work/$path.yaml" > "$work/$path.log" 2>&1 & pid[$path]=$!; pids+=(${pid[$path]})
  wait_ok "http://127.0.0.1:${port[$path]}/health"
done

printf '{"model": "up", "messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 4}' > "$work/chat.json"
results=$work/results.jsonl
load() {  # PATH LABEL REQUESTS
  "$build/bench/hiro_loadgen" --url "http://127.0.0.1:${port[$1]}/v1/chat/completions" --body "$work/chat.json" \
    --header "Authorization: Bearer sk-bench" --requests "$3" --concurrency 1 --label "$2" --json "$results" > /dev/null
}
log "warm-up"
for path in none local redis; do load "$path" warm-up 300; done
: > "$results"
declare -A cpu
for path in none local redis; do cpu[$path]=0; done
cpu[redis-server]=0
for round in $(seq "$rounds"); do
  log "round $round of $rounds"
  for path in none local redis; do
    before=$(cpu_ms "${pid[$path]}"); redis_before=$(cpu_ms "$redis_pid")
    load "$path" "$path" "$requests"
    cpu[$path]=$(python3 -c "print(${cpu[$path]} + $(cpu_ms "${pid[$path]}") - $before)")
    [ "$path" = redis ] && cpu[redis-server]=$(python3 -c "print(${cpu[redis-server]} + $(cpu_ms "$redis_pid") - $redis_before)")
  done
done

python3 - "$results" "$requests" "$rounds" "${cpu[none]}" "${cpu[local]}" "${cpu[redis]}" "${cpu[redis-server]}" <<'PY'
import json, statistics, sys
results, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cpu = dict(zip(["none", "local", "redis", "redis-server"], map(float, sys.argv[4:8])))
rows = [json.loads(l) for l in open(results)]
p50 = {p: statistics.median(r["p50_ms"] for r in rows if r["label"] == p) for p in ("none", "local", "redis")}
ok = {p: sum(r.get("statuses", {}).get("200", 0) for r in rows if r["label"] == p) for p in p50}  # anything else: not the path measured
per = lambda ms: 1000 * ms / (n * rounds)
print(f"{'path':<8} {'answered':>9} {'p50 ms':>8} {'+ vs none':>10} {'hiro CPU us/req':>16} {'+ vs none':>10}")
for p in ("none", "local", "redis"):
    extra = f"{per(cpu[p]) - per(cpu['none']):+.1f}" if p != "none" else ""
    print(f"{p:<8} {ok[p]:>9} {p50[p]:>8.3f} {p50[p] - p50['none']:>+10.3f} {per(cpu[p]):>16.1f} {extra:>10}")
print(f"redis-server CPU per request: {per(cpu['redis-server']):.1f} us (two script calls: reserve, settle)")
print(f"limit check through Redis adds {p50['redis'] - p50['none']:+.3f} ms at p50 (target <= 0.2 ms); in-process {p50['local'] - p50['none']:+.3f} ms")
PY
