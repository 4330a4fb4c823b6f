#!/usr/bin/env bash
# scripts/bench-pages.sh: the page benchmark on seeded data (`make bench-pages`).
#
# Builds kandidat, seeds a fresh installation in tmp/bench/data, serves it on
# a free loopback port, waits for its jobs to extract the seeded CVs and
# index every candidate, signs in as the HR manager of the largest company and
# times each staff page with `kandidat bench` (1 and 8 clients by default).
# The table is printed at the end and kept in tmp/bench/pages.md, to paste
# into docs/benchmarks.md. The server is stopped on exit, Ctrl-C included.
#
# Environment:
#   SCALE=medium          the seed's --scale (medium: 100,000 candidates in the largest company)
#   SEED=1                the seed's --seed
#   DOCUMENTS=0.05        the seed's --documents (default: the scale's share)
#   WAIT_LIMIT=3600       seconds to wait, at most, for the server to extract the
#                         seeded CVs' text and drain the search queue (polled with
#                         sqlite3 or psql; without them WAIT_SECONDS=600 are slept)
#   CLIENTS=1,8 DURATION=10s WARMUP=1s    passed to kandidat bench
#   ENGINE=postgres DATABASE_URL=postgres://...
#                         seed and serve on PostgreSQL instead of SQLite; the
#                         database must hold no company (seed refuses otherwise)
#   LOGIN=... PASSWORD=... sign in as this user instead of the one the seed names
#
# Logs: tmp/bench/{seed,serve,bench}.log. When the first sign-in makes bench
# choose a new password, it is printed and kept in tmp/bench/bench.log.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

DIR=tmp/bench
BIN=$DIR/kandidat
DATA=$DIR/data
SCALE=${SCALE:-medium}
SEED=${SEED:-1}
ENGINE=${ENGINE:-sqlite}

# What `kandidat seed` prints about the largest company's users, one line each:
#   "  hr-login: <login>"
#   "  password: <one-time password>"
# The first matching line wins. Adapt these patterns if that format changes.
SEED_LOGIN_PATTERN='^  hr-login: *'
SEED_PASSWORD_PATTERN='^  password: *'

# seed_value PATTERN FILE prints the rest of the first line matching PATTERN.
seed_value() {
	grep -m1 -E "$1" "$2" | sed -E "s/$1//; s/[[:space:]]+$//" || true
}

die() { echo "bench-pages: $*" >&2; exit 1; }

command -v curl >/dev/null 2>&1 || die "curl is needed to wait for the server"

db_args=()
case $ENGINE in
sqlite) ;;
postgres)
	[ -n "${DATABASE_URL:-}" ] || die "ENGINE=postgres needs DATABASE_URL=postgres://user:password@host/db (an empty database)"
	db_args=(--database-url "$DATABASE_URL")
	;;
*) die "ENGINE=$ENGINE: use sqlite or postgres" ;;
esac

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

# start_server LOG starts kandidat serve on a free loopback port in the
# background and sets BASE to its address once it is ready.
start_server() {
	local log=$1
	"$BIN" serve --data-dir "$DATA" "${db_args[@]}" --addr 127.0.0.1:0 --log-level warn --no-erasure-sweep >"$log" 2>&1 &
	server_pid=$!
	BASE=
	for _ in $(seq 1 600); do
		kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $log: $(tail -n 3 "$log")"
		BASE=$(sed -nE 's/^Kandidat .* is running at (http[^ ]*).*$/\1/p' "$log" | head -n1)
		if [ -n "$BASE" ] && curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	die "the server was not ready after 2 minutes; see $log"
}

echo "== build"
mkdir -p "$DIR"
go build -o "$BIN" ./cmd/kandidat

echo "== fresh installation in $DATA ($ENGINE)"
rm -rf "$DATA"
mkdir -p "$DATA"
# seed makes the master key of a new installation, as serve does.
echo "== seed --scale $SCALE --seed $SEED ${DOCUMENTS:+--documents $DOCUMENTS }(log: $DIR/seed.log)"
"$BIN" seed --data-dir "$DATA" "${db_args[@]}" --scale "$SCALE" --seed "$SEED" ${DOCUMENTS:+--documents "$DOCUMENTS"} >"$DIR/seed.out" 2>"$DIR/seed.log" ||
	die "seed failed: $(tail -n 3 "$DIR/seed.log")"
cat "$DIR/seed.out" >>"$DIR/seed.log"
grep -v -E "$SEED_PASSWORD_PATTERN" "$DIR/seed.out" || true

login=${LOGIN:-$(seed_value "$SEED_LOGIN_PATTERN" "$DIR/seed.out")}
password=${PASSWORD:-$(seed_value "$SEED_PASSWORD_PATTERN" "$DIR/seed.out")}
[ -n "$login" ] || die "no line matching '$SEED_LOGIN_PATTERN' in $DIR/seed.out: set LOGIN or adapt SEED_LOGIN_PATTERN"
[ -n "$password" ] || die "no line matching '$SEED_PASSWORD_PATTERN' in $DIR/seed.out: set PASSWORD or adapt SEED_PASSWORD_PATTERN"
(umask 077 && printf '%s\n' "$password" >"$DIR/password")

echo "== serve"
start_server "$DIR/serve.log"
echo "serving at $BASE"

# The seed leaves its CV files' text to extract (documents.text_state
# 'pending') and every candidate queued for the search index (search_queue):
# the server's documents.text and search.index jobs do both, and each
# extracted text queues its candidate again. Timing pages meanwhile would
# time those jobs too, and search would not find CV words yet, so the
# benchmark starts once both are empty, read from the database every 5 s.
# On PostgreSQL psql connects with DATABASE_URL, the tables' owner, whom the
# row-level security policies (enabled, not forced) do not restrict.
backlog_sql="SELECT (SELECT count(*) FROM documents WHERE text_state = 'pending') || ' ' || (SELECT count(*) FROM search_queue)"
backlog() {
	case $ENGINE in
	sqlite)
		local f
		for f in "$DATA"/*; do
			if [ -f "$f" ] && [ "$(head -c 15 "$f")" = "SQLite format 3" ]; then
				sqlite3 -cmd '.timeout 10000' "$f" "$backlog_sql"
				return
			fi
		done
		echo "no SQLite database in $DATA" >&2
		return 1
		;;
	postgres) psql -X -A -t -q "$DATABASE_URL" -c "$backlog_sql" ;;
	esac
}
client=sqlite3
[ "$ENGINE" = postgres ] && client=psql
if command -v "$client" >/dev/null 2>&1; then
	echo "== wait for the documents' text and the search queue (WAIT_LIMIT=${WAIT_LIMIT:-3600}s)"
	waited=0
	while :; do
		b=$(backlog) || die "cannot read the backlog with $client"
		set -- $b
		[ "${1:-x}" = 0 ] && [ "${2:-x}" = 0 ] && break
		[ $((waited % 60)) = 0 ] && echo "after ${waited}s: $1 documents to extract, $2 candidates to index"
		[ "$waited" -lt "${WAIT_LIMIT:-3600}" ] || die "still $1 documents and $2 candidates after ${waited}s"
		sleep 5
		waited=$((waited + 5))
	done
	echo "documents extracted and index written after ${waited}s"
else
	echo "bench-pages: $client not found: cannot wait for the documents' text and the search queue;" >&2
	echo "bench-pages: waiting WAIT_SECONDS=${WAIT_SECONDS:-600}s instead" >&2
	sleep "${WAIT_SECONDS:-600}"
fi

echo "== bench as $login"
load_before=$(uptime | sed -E 's/.*load average: //')
rm -f "$DIR/pages.md"
status=0
"$BIN" bench --base-url "$BASE" --login "$login" --password-file "$DIR/password" \
	--clients "${CLIENTS:-1,8}" --duration "${DURATION:-10s}" --warmup "${WARMUP:-1s}" \
	--out "$DIR/pages.md" >/dev/null 2> >(tee "$DIR/bench.log" >&2) || status=$?
stop_server

if [ -s "$DIR/pages.md" ]; then
	echo
	echo "Seed: --scale $SCALE --seed $SEED${DOCUMENTS:+ --documents $DOCUMENTS}, $ENGINE, $(nproc 2>/dev/null || echo '?') CPUs, $(go env GOVERSION)."
	echo "Load average (1, 5, 15 min) before the benchmark: $load_before; after: $(uptime | sed -E 's/.*load average: //')."
	echo
	cat "$DIR/pages.md"
	echo
	echo "(kept in $DIR/pages.md)"
fi
exit "$status"
