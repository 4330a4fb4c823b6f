#!/usr/bin/env bash
# scripts/bench-backup.sh: backup and restore at real size (`make bench-backup`).
#
# Needs the seeded SQLite installation `make bench-pages` leaves in
# tmp/bench/data (100,000 candidates in the largest company). It copies it
# to tmp/bench/backup-data, then
#   1. times `kandidat backup create` of the copy to a directory (no server),
#   2. times `kandidat restore` of that backup into an empty data directory,
#   3. serves the copy, times the staff pages with `kandidat bench` idle and
#      again while `kandidat backup create` runs beside the server.
# It prints the figures and both tables (p50/p95/p99), kept in
# tmp/bench/backup.md for docs/benchmarks.md.
#
# Environment:
#   CLIENTS=8 DURATION=10s WARMUP=1s   passed to kandidat bench
#   LOGIN=... PASSWORD_FILE=...        the user bench signs in as (default: the
#                                      seed's HR manager and tmp/bench/password)
#   SRC=tmp/bench/data                 the seeded installation
#   WAIT_JOBS=... WAIT_LIMIT=900       start-up jobs to wait for, as bench-sweep.sh

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

DIR=tmp/bench
BIN=$DIR/kandidat
SRC=${SRC:-$DIR/data}
DATA=$DIR/backup-data
RESTORED=$DIR/restore-data
TARGET=$DIR/backups
die() { echo "bench-backup: $*" >&2; exit 1; }

[ -d "$SRC" ] || die "no seeded installation in $SRC: run make bench-pages first"
command -v age-keygen >/dev/null 2>&1 || die "age-keygen is needed (apt-get install age)"
login=${LOGIN:-$(grep -m1 -E '^  hr-login: *' "$DIR/seed.out" | sed -E 's/^  hr-login: *//; s/[[:space:]]+$//')}
password_file=${PASSWORD_FILE:-$DIR/password}
[ -n "$login" ] || die "no login: set LOGIN"
[ -s "$password_file" ] || die "no password in $password_file: set PASSWORD_FILE"

echo "== build"
go build -o "$BIN" ./cmd/kandidat

echo "== copy $SRC to $DATA"
rm -rf "$DATA" "$RESTORED" "$TARGET"
cp -a "$SRC" "$DATA"
"$BIN" migrate up --data-dir "$DATA" >/dev/null
rm -f "$DIR/backup.key"
age-keygen -o "$DIR/backup.key" 2>/dev/null
recipient=$(age-keygen -y "$DIR/backup.key")
size=$(du -sb "$DATA/kandidat.db" "$DATA/files" | awk '{ s += $1 } END { print s }')

echo "== backup create (idle)"
t0=$(date +%s.%N)
"$BIN" backup create --data-dir "$DATA" --log-level warn --to "$(realpath "$TARGET")" --recipient "$recipient" | tee "$DIR/backup-create.txt"
t1=$(date +%s.%N)
stored=$(du -sb "$TARGET" | cut -f1)

echo "== restore into an empty data directory"
mkdir -p "$RESTORED"
cp "$DATA/master.key" "$RESTORED/"
t2=$(date +%s.%N)
"$BIN" restore --data-dir "$RESTORED" --log-level warn --from "$(realpath "$TARGET")" --identity "$DIR/backup.key" | tee "$DIR/backup-restore.txt"
t3=$(date +%s.%N)
rm -rf "$RESTORED"

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

echo "== serve"
metrics_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
"$BIN" serve --data-dir "$DATA" --addr 127.0.0.1:0 --log-level warn --no-erasure-sweep \
	--metrics-token "$metrics_token" >"$DIR/backup-serve.log" 2>&1 &
server_pid=$!
BASE=
for _ in $(seq 1 3000); do
	kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $DIR/backup-serve.log"
	BASE=$(sed -nE 's/^Kandidat .* is running at (http[^ ]*).*$/\1/p' "$DIR/backup-serve.log" | head -n1)
	if [ -n "$BASE" ] && curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then
		break
	fi
	sleep 0.2
done
[ -n "$BASE" ] || die "the server was not ready"
WAIT_JOBS=${WAIT_JOBS:-db.optimize privacy.bases search.index}
WAIT_LIMIT=${WAIT_LIMIT:-900}
echo "== wait for the start-up jobs: $WAIT_JOBS"
ran() {
	local metrics
	metrics=$(curl -fsS -H "Authorization: Bearer $metrics_token" "$BASE/metrics" 2>/dev/null) || return 1
	grep -qE "^kandidat_job_runs_total\{job=\"${1//./\\.}\",result=\"[a-z]+\"\} [1-9]" <<<"$metrics"
}
waited=0
for job in $WAIT_JOBS; do
	until ran "$job"; do
		kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $DIR/backup-serve.log"
		[ "$waited" -lt "$WAIT_LIMIT" ] || die "job $job did not run within ${WAIT_LIMIT}s"
		sleep 1
		waited=$((waited + 1))
	done
done

bench() {
	"$BIN" bench --base-url "$BASE" --login "$login" --password-file "$password_file" \
		--clients "${CLIENTS:-8}" --duration "${DURATION:-10s}" --warmup "${WARMUP:-1s}" --out "$1" >/dev/null 2>>"$DIR/backup-bench.log"
}

echo "== pages, idle"
bench "$DIR/backup-idle.md"

echo "== pages while a backup is written"
rm -rf "$TARGET"
"$BIN" backup create --data-dir "$DATA" --log-level warn --to "$(realpath "$TARGET")" --recipient "$recipient" >"$DIR/backup-busy-create.txt" 2>&1 &
backup_pid=$!
bench "$DIR/backup-busy.md"
wait "$backup_pid" || die "the backup beside the server failed: $(tail -n 3 "$DIR/backup-busy-create.txt")"
stop_server
rm -rf "$TARGET"

{
	awk -v s="$size" -v st="$stored" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$(nproc)" 'BEGIN {
		printf "Installation: %.0f MB (database and files), backup stored: %.0f MB, %d CPUs.\n", s / 1e6, st / 1e6, n
		printf "backup create: %.1f s (%.0f MB/s of the installation)\n", b - a, s / 1e6 / (b - a)
		printf "restore (with the erasure ledger applied): %.1f s (%.0f MB/s)\n", d - c, s / 1e6 / (d - c)
	}'
	echo
	echo "Pages idle:"
	cat "$DIR/backup-idle.md"
	echo
	echo "Pages while backup create runs beside the server:"
	cat "$DIR/backup-busy.md"
	echo
	echo "The backup beside the server: $(head -n1 "$DIR/backup-busy-create.txt")"
} | tee "$DIR/backup.md"
