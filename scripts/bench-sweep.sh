#!/usr/bin/env bash
# scripts/bench-sweep.sh: the erasure sweep at real size (`make bench-sweep`).
#
# Needs the seeded SQLite installation `make bench-pages` leaves in
# tmp/bench/data (100,000 candidates in the largest company, most of them
# past the six months an application is kept). It copies it to
# tmp/bench/sweep-data, serves the copy with the daily sweep off, times the
# staff pages with `kandidat bench` while nothing else runs, then runs
# `kandidat privacy sweep` and times the same pages again while it erases.
# It prints the sweep's erasures per second and both tables (p50/p95/p99),
# kept in tmp/bench/sweep.md for docs/benchmarks.md.
#
# Environment:
#   CLIENTS=8 DURATION=3s WARMUP=1s   passed to kandidat bench
#   LOGIN=... PASSWORD_FILE=...       the user bench signs in as (default: the
#                                     seed's HR manager and tmp/bench/password)
#   SRC=tmp/bench/data DATA=tmp/bench/sweep-data   the seeded installation
#                                     and the copy the run works on
#   WAIT_JOBS="db.optimize ..."       start-up jobs whose first run the timing
#   WAIT_LIMIT=900                    waits for (their names in the metrics), and
#                                     for at most this many seconds

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

DIR=tmp/bench
BIN=$DIR/kandidat
SRC=${SRC:-$DIR/data}
DATA=${DATA:-$DIR/sweep-data}
die() { echo "bench-sweep: $*" >&2; exit 1; }

[ -d "$SRC" ] || die "no seeded installation in $SRC: run make bench-pages first"
[ "$(realpath -m "$SRC")" != "$(realpath -m "$DATA")" ] || die "DATA must be a copy, not $SRC itself"
login=${LOGIN:-$(grep -m1 -E '^  hr-login: *' "$DIR/seed.out" | sed -E 's/^  hr-login: *//; s/[[:space:]]+$//')}
password_file=${PASSWORD_FILE:-$DIR/password}
[ -n "$login" ] || die "no login: set LOGIN"
[ -s "$password_file" ] || die "no password in $password_file: set PASSWORD_FILE"

echo "== build"
go build -o "$BIN" ./cmd/kandidat

echo "== copy $SRC to $DATA"
rm -rf "$DATA"
cp -a "$SRC" "$DATA"

echo "== migrate"
"$BIN" migrate up --data-dir "$DATA" >/dev/null

# The bases of the copied candidates are computed before anything is timed
# (a dry run does that, and counts), before the server starts.
echo "== dry run"
"$BIN" privacy sweep --data-dir "$DATA" --dry-run | tee "$DIR/sweep-dry.txt"


if [ "${EXPIRE_ALL:-0}" = 1 ]; then
	# Every candidate's basis ended (the aim is stated for 100,000 expired
	# candidates; the seed's history leaves most of them with a basis).
	echo "== EXPIRE_ALL=1: every basis ends in the past"
	sqlite3 "$DATA/kandidat.db" "UPDATE candidates SET basis_until = '2000-01-01 00:00:00+00:00', consent_until = NULL, purpose_until = '2000-01-01 00:00:00+00:00'"
	"$BIN" privacy sweep --data-dir "$DATA" --dry-run | tee -a "$DIR/sweep-dry.txt"
fi

server_pid=
stop_server() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "== serve (the daily sweep off)"
# The metrics say when each start-up job has run once (below); a token opens
# them on the main address for this run only.
metrics_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
"$BIN" serve --data-dir "$DATA" --addr 127.0.0.1:0 --log-level warn --no-erasure-sweep \
	--metrics-token "$metrics_token" >"$DIR/sweep-serve.log" 2>&1 &
server_pid=$!
BASE=
for _ in $(seq 1 3000); do
	kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $DIR/sweep-serve.log"
	BASE=$(sed -nE 's/^Kandidat .* is running at (http[^ ]*).*$/\1/p' "$DIR/sweep-serve.log" | head -n1)
	if [ -n "$BASE" ] && curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then
		break
	fi
	sleep 0.2
done
[ -n "$BASE" ] || die "the server was not ready"

# The jobs a server runs soon after start work on the whole copy (the
# planner's statistics, pending bases, the forgetting after erasures, the
# search index's queue): timed pages would wait for their writes. Each job's
# first run ends when kandidat_job_runs_total counts it (whatever its
# result); the benchmark starts after the last of them.
WAIT_JOBS=${WAIT_JOBS:-db.optimize privacy.bases privacy.forget search.index}
WAIT_LIMIT=${WAIT_LIMIT:-900}
echo "== wait for the start-up jobs: $WAIT_JOBS"
ran() { # ran JOB: the job's first run has ended
	local metrics
	metrics=$(curl -fsS -H "Authorization: Bearer $metrics_token" "$BASE/metrics" 2>/dev/null) || return 1
	grep -qE "^kandidat_job_runs_total\{job=\"${1//./\\.}\",result=\"[a-z]+\"\} [1-9]" <<<"$metrics"
}
waited=0
for job in $WAIT_JOBS; do
	until ran "$job"; do
		kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $DIR/sweep-serve.log"
		[ "$waited" -lt "$WAIT_LIMIT" ] || die "job $job did not run within ${WAIT_LIMIT}s (WAIT_LIMIT)"
		sleep 1
		waited=$((waited + 1))
	done
	echo "   $job ran (${waited}s)"
done

bench() {
	"$BIN" bench --base-url "$BASE" --login "$login" --password-file "$password_file" \
		--clients "${CLIENTS:-8}" --duration "${DURATION:-3s}" --warmup "${WARMUP:-1s}" --out "$1" >/dev/null 2>>"$DIR/sweep-bench.log"
}

echo "== pages, idle (load: $(uptime | sed -E 's/.*load average: //'))"
bench "$DIR/sweep-idle.md"

echo "== pages while the sweep erases"
start=$(date +%s.%N)
"$BIN" privacy sweep --data-dir "$DATA" >"$DIR/sweep-run.txt" 2>"$DIR/sweep-run.log" &
sweep_pid=$!
bench "$DIR/sweep-busy.md"
wait "$sweep_pid" || die "the sweep failed: $(tail -n 3 "$DIR/sweep-run.log")"
end=$(date +%s.%N)
stop_server

{
	echo "Sweep of $DATA on $(nproc) CPUs: $(head -n1 "$DIR/sweep-run.txt")"
	cat "$DIR/sweep-run.txt" | tail -n +2
	awk -v s="$start" -v e="$end" 'BEGIN { printf "The sweep and the timed pages together took %.1f s.\n", e - s }'
	echo "Load average after: $(uptime | sed -E 's/.*load average: //')."
	echo
	echo "Idle:"
	cat "$DIR/sweep-idle.md"
	echo
	echo "While the sweep runs:"
	cat "$DIR/sweep-busy.md"
} | tee "$DIR/sweep.md"
