# What every gateway benchmark script shares; source it after `set -euo pipefail`
# and setting bench_name. It gives $root, $build (HIRO_BUILD), a work folder
# $work removed on exit together with every process whose pid is in `pids`
# (nginx, whose pid file is $work/nginx/nginx.pid, is asked to quit first so
# that its workers go too), free loopback ports, waiting for a health URL, and
# progress on stderr. HIRO_KEEP_LOGS=DIR keeps the processes' logs there.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HIRO_BUILD:-$root/build}
work=$(mktemp -d)
pids=()
cleanup() {
  [ -f "$work/nginx/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null && sleep 0.3
  for p in "${pids[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  [ -n "${HIRO_KEEP_LOGS:-}" ] && mkdir -p "$HIRO_KEEP_LOGS" && cp "$work"/*.log "$HIRO_KEEP_LOGS/" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ok() { for _ in $(seq 400); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }
log() { printf '[%s] %s\n' "$bench_name" "$*" >&2; }
