#!/usr/bin/env bash
# scripts/test.sh: the project's whole check, as `make test` and CI run it.
#
#   scripts/test.sh                  every phase
#   scripts/test.sh lint             gofmt, go vet, staticcheck, govulncheck, the OpenAPI lint
#   scripts/test.sh sqlite           the suite on SQLite
#   scripts/test.sh postgres         the suite on a throwaway PostgreSQL cluster
#   scripts/test.sh browser          the TestBrowser* tests in Chromium
#   (phases combine: scripts/test.sh sqlite postgres)
#
# It installs PostgreSQL, pgBackRest, Chromium and Node.js with apt-get when they are missing
# (and the pinned OpenAPI linter of tools/openapi-lint with npm ci),
# starts a private PostgreSQL cluster on a free port and removes it on exit,
# Ctrl-C included. Lint failures stop the run before the suites; the suites all
# run, and every failure is reported at the end. docs/testing.md explains more.
#
# Environment:
#   KANDIDAT_VULNDB            the offline Go vulnerability database
#                              (default ../shared/vulndb from the repository root);
#                              without it govulncheck uses the online database
#                              https://vuln.go.dev, and when that is not reachable
#                              either it is skipped with a WARNING (the run goes on)
#   KANDIDAT_TEST_CHROMIUM     a Chromium binary to use (default /usr/bin/chromium)
#   KANDIDAT_TEST_KEEP_GOING=1 run the suites even when lint fails
#   KANDIDAT_TEST_LOGDIR       where the logs go (default tmp/test in the repository)

set -uo pipefail

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
ONLINE_VULNDB=https://vuln.go.dev

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$(pwd)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
LOGDIR=${KANDIDAT_TEST_LOGDIR:-$ROOT/tmp/test}
mkdir -p "$LOGDIR" || exit 1
rm -f "$LOGDIR"/*.json "$LOGDIR"/*.log "$LOGDIR"/*.count

# ---------------------------------------------------------------- phases ---

WANT=" $* "
[ $# -eq 0 ] && WANT=" lint sqlite postgres browser "
for p in $WANT; do
	case $p in
	lint | sqlite | postgres | browser) ;;
	*)
		echo "usage: scripts/test.sh [lint] [sqlite] [postgres] [browser]" >&2
		exit 2
		;;
	esac
done
want() { [[ $WANT == *" $1 "* ]]; }

# --------------------------------------------------------------- helpers ---

now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

fmt_ms() {
	local ms=$1
	if [ "$ms" -ge 60000 ]; then
		printf '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000))
	else
		printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
	fi
}

START_MS=$(now_ms)
NAMES=() STATES=() TIMES=() NOTES=()
PASSED=0 FAILED=0 SKIPPED=0 RAN_TESTS=0

# record NAME STATE MS NOTE: STATE is ok, FAIL or skipped.
record() {
	CURRENT=""
	NAMES+=("$1") STATES+=("$2") TIMES+=("$3") NOTES+=("$4")
	local t=""
	[ "$3" -gt 0 ] && t=" in $(fmt_ms "$3")"
	echo "--- $1: $2$t${4:+ ($4)}"
	echo
}

CURRENT="" CURRENT_T0=0
banner() {
	CURRENT=$1 CURRENT_T0=$(now_ms)
	echo "=== $1${2:+: $2}"
}

failed_phases() {
	local i out=""
	for i in "${!NAMES[@]}"; do
		[ "${STATES[$i]}" = FAIL ] && out+=" ${NAMES[$i]}"
	done
	echo "${out# }"
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "need root (or sudo) to run: $*" >&2
		return 1
	fi
}

# as_pg runs a PostgreSQL server program as the postgres user when we are
# root (initdb and pg_ctl refuse to run as root), in its own session so that
# a Ctrl-C in the terminal reaches only this script, which stops the server.
as_pg() (
	cd / || exit 1
	if [ "$(id -u)" -ne 0 ]; then
		exec setsid -w "$@"
	elif command -v runuser >/dev/null 2>&1; then
		exec setsid -w runuser -u postgres -- "$@"
	else
		exec setsid -w su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
	fi
)

# run_child runs a command in its own process group and waits for it, so
# that the signal trap can stop it and everything it started.
CHILD=""
run_child() {
	setsid "$@" </dev/null &
	CHILD=$!
	wait "$CHILD"
	local rc=$?
	CHILD=""
	return "$rc"
}

kill_child() {
	[ -n "$CHILD" ] || return 0
	kill -TERM -- "-$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null
	local i
	for i in $(seq 50); do
		kill -0 -- "-$CHILD" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$CHILD" 2>/dev/null
	wait "$CHILD" 2>/dev/null
	CHILD=""
}

# ------------------------------------------------------------- installing ---

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

CHROMIUM=""
TOOL_VARS=() # set by install_phase for the suites
find_chromium() {
	if [ -n "${KANDIDAT_TEST_CHROMIUM:-}" ]; then
		[ -x "$KANDIDAT_TEST_CHROMIUM" ] && CHROMIUM=$KANDIDAT_TEST_CHROMIUM
		return 0
	fi
	[ -x /usr/bin/chromium ] && CHROMIUM=/usr/bin/chromium
	return 0
}

apt_install() {
	local log=$LOGDIR/apt.log
	local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
		--no-install-recommends -o Dpkg::Use-Pty=0 "$@")
	echo "installing with apt-get: $* (log: ${log#"$ROOT"/})"
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		as_root apt-get update -q >>"$log" 2>&1
	fi
	if as_root "${install[@]}" >>"$log" 2>&1; then
		return 0
	fi
	echo "apt-get install failed; running apt-get update and trying again"
	as_root apt-get update -q >>"$log" 2>&1
	if as_root "${install[@]}" >>"$log" 2>&1; then
		return 0
	fi
	tail -n 30 "$log"
	return 1
}

install_phase() {
	local t0 pkgs=() notes=() state=ok
	t0=$(now_ms)
	banner install "PostgreSQL, pgBackRest, Chromium, Node.js, oathtool, htpasswd, openssl, pdftotext, docx2txt, age when missing"
	# PostgreSQL's server programs and pgBackRest: the postgres suite runs on
	# a throwaway cluster, and the point-in-time recovery test of
	# internal/backup (in both suites) starts its own cluster that archives
	# its WAL with pgBackRest.
	if { want postgres || want sqlite; } && [ -z "$(pg_bindir)" ]; then
		pkgs+=(postgresql)
	fi
	if want postgres || want sqlite; then
		command -v pgbackrest >/dev/null 2>&1 || pkgs+=(pgbackrest)
	fi
	if want browser; then
		find_chromium
		if [ -z "$CHROMIUM" ] && [ -n "${KANDIDAT_TEST_CHROMIUM:-}" ]; then
			echo "KANDIDAT_TEST_CHROMIUM=$KANDIDAT_TEST_CHROMIUM is not an executable"
			state=FAIL
		elif [ -z "$CHROMIUM" ]; then
			pkgs+=(chromium)
		fi
	fi
	# Independent tools the tests check Kandidat against: oathtool (TOTP),
	# htpasswd (bcrypt hashes), openssl (PBKDF2 hashes), pdftotext and
	# docx2txt (generated PDF and DOCX files), age (backups). Once installed here, the
	# suites require them: a document test fails instead of skipping.
	if want sqlite || want postgres; then
		command -v oathtool >/dev/null 2>&1 || pkgs+=(oathtool)
		command -v htpasswd >/dev/null 2>&1 || pkgs+=(apache2-utils)
		command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
		command -v pdftotext >/dev/null 2>&1 || pkgs+=(poppler-utils)
		command -v docx2txt >/dev/null 2>&1 || pkgs+=(docx2txt)
		# age decrypts a backup Kandidat made, as an operator would.
		command -v age >/dev/null 2>&1 || pkgs+=(age)
		TOOL_VARS=(KANDIDAT_TEST_REQUIRE_TOOLS=1)
	fi
	# The OpenAPI linter runs on Node.js (Debian's nodejs and npm).
	if want lint; then
		command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
		command -v npm >/dev/null 2>&1 || pkgs+=(npm)
	fi
	if [ ${#pkgs[@]} -gt 0 ]; then
		apt_install "${pkgs[@]}" || state=FAIL
		notes+=("installed ${pkgs[*]}")
	else
		notes+=("nothing to install")
	fi
	if want lint; then
		openapi_lint_install || state=FAIL
	fi
	if want postgres; then
		local bin
		bin=$(pg_bindir)
		if [ -n "$bin" ]; then
			echo "postgresql: $("$bin/postgres" --version 2>/dev/null) in $bin"
		else
			echo "postgresql: not found in /usr/lib/postgresql/*/bin"
			state=FAIL
		fi
	fi
	if want browser; then
		find_chromium
		if [ -n "$CHROMIUM" ]; then
			echo "chromium: $("$CHROMIUM" --version 2>/dev/null | head -n 1) at $CHROMIUM"
		else
			echo "chromium: not found"
			state=FAIL
		fi
	fi
	record install "$state" $(($(now_ms) - t0)) "${notes[*]}"
}

# openapi_lint_install installs the linter exactly as package-lock.json
# pins it (npm ci; the registry is needed only here, and only when the
# lock changed since the last install).
OPENAPI_LINT=$ROOT/tools/openapi-lint
# Redocly CLI neither reports usage nor looks for updates from here.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
openapi_lint_install() {
	local stamp=$OPENAPI_LINT/node_modules/.package-lock.json
	if [ -x "$OPENAPI_LINT/node_modules/.bin/redocly" ] && [ -f "$stamp" ] &&
		[ ! "$OPENAPI_LINT/package-lock.json" -nt "$stamp" ]; then
		echo "openapi linter: installed ($(cd "$OPENAPI_LINT" && node_modules/.bin/redocly --version 2>/dev/null))"
		return 0
	fi
	echo "openapi linter: npm ci in ${OPENAPI_LINT#"$ROOT"/} (log: ${LOGDIR#"$ROOT"/}/npm.log)"
	if ! (cd "$OPENAPI_LINT" && npm ci --no-audit --no-fund --prefer-offline --ignore-scripts) >"$LOGDIR/npm.log" 2>&1; then
		tail -n 30 "$LOGDIR/npm.log"
		return 1
	fi
}

# ------------------------------------------------------------ PostgreSQL ---

PGDIR="" PGBIN="" PG_URL=""

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local start=$(((RANDOM * 32768 + RANDOM) % 40000)) i p
	for i in $(seq 0 399); do
		p=$((20000 + (start + i) % 40000))
		[ "$p" -eq 55432 ] && continue
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	return 1
}

# stop_cluster DIR stops the server whose data directory is DIR/data.
stop_cluster() {
	local dir=$1 pid
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 && return 0
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 && return 0
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	return 0
}

# sweep_stale removes the clusters of earlier runs that were killed outright
# (SIGKILL leaves no chance to clean up): those whose owner process is gone.
sweep_stale() {
	local d owner
	for d in /tmp/kandidat-pg.*; do
		[ -d "$d" ] || continue
		owner=$(cat "$d/owner.pid" 2>/dev/null)
		if [ -z "$owner" ]; then
			# Being set up right now, or very old.
			[ -n "$(find "$d" -maxdepth 0 -mmin +60)" ] || continue
		elif [ -d "/proc/$owner" ]; then
			continue
		fi
		echo "removing the stale cluster $d"
		stop_cluster "$d"
		rm -rf -- "$d"
	done
}

postgres_phase() {
	local t0 port attempt opts
	t0=$(now_ms)
	banner postgres-start "a throwaway PostgreSQL cluster"
	PGBIN=$(pg_bindir)
	if [ -z "$PGBIN" ]; then
		record postgres-start FAIL $(($(now_ms) - t0)) "no PostgreSQL installed"
		return 1
	fi
	sweep_stale
	if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home \
			--home-dir /var/lib/postgresql --shell /bin/sh postgres || true
	fi
	PGDIR=$(mktemp -d /tmp/kandidat-pg.XXXXXX) || {
		record postgres-start FAIL $(($(now_ms) - t0)) "mktemp failed"
		return 1
	}
	echo $$ >"$PGDIR/owner.pid"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDIR"
	chmod 700 "$PGDIR"
	if ! as_pg "$PGBIN/initdb" -A trust -U kandidat -E UTF8 --no-locale \
		-D "$PGDIR/data" >"$PGDIR/initdb.out" 2>&1; then
		cat "$PGDIR/initdb.out"
		record postgres-start FAIL $(($(now_ms) - t0)) "initdb failed"
		return 1
	fi
	for attempt in 1 2 3; do
		port=$(free_port) || break
		opts="-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off"
		opts+=" -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
		if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "$opts" \
			-l "$PGDIR/log" -w -t 60 start >"$PGDIR/pg_ctl.out" 2>&1; then
			PG_URL="postgres://kandidat@127.0.0.1:$port/postgres?sslmode=disable"
			break
		fi
		echo "pg_ctl start on port $port failed (attempt $attempt):"
		cat "$PGDIR/pg_ctl.out"
		tail -n 10 "$PGDIR/log" 2>/dev/null
		stop_cluster "$PGDIR"
	done
	if [ -z "$PG_URL" ]; then
		record postgres-start FAIL $(($(now_ms) - t0)) "the server did not start"
		return 1
	fi
	echo "PostgreSQL: $PG_URL (data in $PGDIR)"
	record postgres-start ok $(($(now_ms) - t0)) "127.0.0.1:$port"
}

# ------------------------------------------------------------------ lint ---

gofmt_check() {
	local files out
	files=$(find . \( -name testdata -o -name vendor -o -name '.?*' -o -name '_*' \) -prune \
		-o -name '*.go' -type f -print)
	[ -n "$files" ] || return 0
	# shellcheck disable=SC2086
	out=$(gofmt -l $files) || return 1
	if [ -n "$out" ]; then
		echo "gofmt would change these files (run make fmt):"
		echo "$out"
		return 1
	fi
}

# openapi_lint writes the served OpenAPI document (TestOpenAPIDocumentFile)
# and lints it with @redocly/cli's recommended rules (tools/openapi-lint).
openapi_lint() {
	local doc=$LOGDIR/openapi.json
	if [ ! -x "$OPENAPI_LINT/node_modules/.bin/redocly" ]; then
		echo "the OpenAPI linter is not installed: scripts/test.sh lint installs it (npm ci in ${OPENAPI_LINT#"$ROOT"/})"
		return 1
	fi
	if ! env -u KANDIDAT_TEST_POSTGRES_URL KANDIDAT_OPENAPI_OUT="$doc" \
		go test -count=1 -run '^TestOpenAPIDocumentFile$' ./internal/web/ >"$LOGDIR/openapi-doc.log" 2>&1; then
		cat "$LOGDIR/openapi-doc.log"
		return 1
	fi
	(cd "$OPENAPI_LINT" && node_modules/.bin/redocly lint --config redocly.yaml --format stylish "$doc")
}

# step NAME DESCRIPTION CMD...: a timed lint step.
step() {
	local name=$1 what=$2 t0 rc
	shift 2
	banner "$name" "$what"
	t0=$(now_ms)
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		record "$name" ok $(($(now_ms) - t0)) ""
	else
		record "$name" FAIL $(($(now_ms) - t0)) "exit $rc"
	fi
	return $rc
}

lint_phase() {
	local rc=0 db
	step gofmt "gofmt -l" gofmt_check || rc=1
	step vet "go vet ./..." run_child go vet ./... || rc=1
	step staticcheck "go run $STATICCHECK ./..." run_child go run "$STATICCHECK" ./... || rc=1
	step openapi-lint "redocly lint of /api/v1/openapi.json (tools/openapi-lint)" openapi_lint || rc=1
	# The offline database when there is one; else the online one, which
	# a fresh clone uses; else a warning, for a machine offline has no
	# database to check against and that is no fault of the code.
	db=${KANDIDAT_VULNDB:-$ROOT/../shared/vulndb}
	if [ -d "$db" ]; then
		db=$(cd "$db" && pwd)
		step govulncheck "go run $GOVULNCHECK -db file://$db ./..." \
			run_child go run "$GOVULNCHECK" -db "file://$db" ./... || rc=1
	elif reachable "$ONLINE_VULNDB"; then
		step govulncheck "go run $GOVULNCHECK -db $ONLINE_VULNDB ./... (no offline database at $db)" \
			run_child go run "$GOVULNCHECK" -db "$ONLINE_VULNDB" ./... || rc=1
	else
		banner govulncheck
		echo "WARNING: govulncheck skipped: no offline vulnerability database at $db"
		echo "WARNING: (set KANDIDAT_VULNDB to its directory), and the online database"
		echo "WARNING: $ONLINE_VULNDB is not reachable from this machine."
		record govulncheck skipped 0 "no vulnerability database: set KANDIDAT_VULNDB or reach $ONLINE_VULNDB"
	fi
	return $rc
}

# reachable URL: whether an HTTPS server answers at URL within 10 seconds,
# asked with curl or wget, or at least its port opened when neither exists.
reachable() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 10 "$1" 2>/dev/null
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O /dev/null --timeout=10 --tries=1 "$1" 2>/dev/null
	else
		local host=${1#https://}
		timeout 10 bash -c ": </dev/tcp/${host%%/*}/443" 2>/dev/null
	fi
}

# ----------------------------------------------------------------- suites ---

# suite NAME DESCRIPTION [VAR=VALUE...] -- GO TEST ARGS...
suite() {
	local name=$1 what=$2 vars=() t0 rc counts p f s
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	banner "$name" "$what"
	t0=$(now_ms)
	run_child env -u KANDIDAT_TEST_POSTGRES_URL -u KANDIDAT_TEST_CHROMIUM "${vars[@]}" \
		bash -c 'set -o pipefail
			json=$1 count=$2 filter=$3
			shift 3
			go test -json "$@" 2>&1 | tee "$json" | awk -v countfile="$count" -f "$filter"' \
		_ "$LOGDIR/$name.json" "$LOGDIR/$name.count" "$ROOT/scripts/gotest-filter.awk" "$@"
	rc=$?
	counts=$(cat "$LOGDIR/$name.count" 2>/dev/null)
	read -r p f s <<<"${counts:-0 0 0}"
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
	RAN_TESTS=1
	if [ $rc -eq 0 ]; then
		record "$name" ok $(($(now_ms) - t0)) "$p passed, $f failed, $s skipped"
	else
		record "$name" FAIL $(($(now_ms) - t0)) "$p passed, $f failed, $s skipped; exit $rc"
	fi
}

# --------------------------------------------------------------- cleanup ---

summary() {
	local i bad
	echo
	echo "=== summary ($(fmt_ms $(($(now_ms) - START_MS))) in all)"
	for i in "${!NAMES[@]}"; do
		printf '  %-16s %-8s %8s  %s\n' "${NAMES[$i]}" "${STATES[$i]}" \
			"$(fmt_ms "${TIMES[$i]}")" "${NOTES[$i]}"
	done
	bad=$(failed_phases)
	if [ -n "$bad" ]; then
		echo "FAILED: $bad (logs in ${LOGDIR#"$ROOT"/})"
	else
		echo "all phases passed"
	fi
	if [ "$RAN_TESTS" -eq 1 ]; then
		echo "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	fi
}

CLEANED=0
cleanup() {
	local rc=$?
	[ $CLEANED -eq 1 ] && return
	CLEANED=1
	trap '' INT TERM HUP PIPE
	kill_child
	if [ -n "$PGDIR" ] && [ -d "$PGDIR" ]; then
		cp "$PGDIR/log" "$LOGDIR/postgres.log" 2>/dev/null
		stop_cluster "$PGDIR"
		rm -rf -- "$PGDIR"
		echo "stopped the PostgreSQL cluster and removed $PGDIR"
	fi
	summary
	exit "$rc"
}

# on_signal NAME CODE
on_signal() {
	trap '' PIPE # the reader of our output may be gone with the same Ctrl-C
	echo
	echo "=== interrupted by SIG$1: stopping"
	kill_child
	if [ -n "$CURRENT" ]; then
		record "$CURRENT" FAIL $(($(now_ms) - CURRENT_T0)) "interrupted by SIG$1"
	fi
	exit "$2"
}

trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

# ------------------------------------------------------------------- main ---

echo "=== scripts/test.sh:$WANT(go: $(go version 2>/dev/null | cut -d' ' -f3-))"
if want postgres || want browser || want lint; then
	install_phase
fi
if want postgres; then
	postgres_phase
fi
if want lint; then
	if ! lint_phase && [ "${KANDIDAT_TEST_KEEP_GOING:-}" != 1 ]; then
		echo "lint failed: the test suites were not run (KANDIDAT_TEST_KEEP_GOING=1 runs them anyway)"
		exit 1
	fi
fi
if want sqlite; then
	suite test-sqlite "go test -count=1 ./... on SQLite" "${TOOL_VARS[@]}" -- -count=1 ./...
fi
if want postgres; then
	if [ -n "$PG_URL" ]; then
		suite test-postgres "go test -count=1 ./... on PostgreSQL" \
			"KANDIDAT_TEST_POSTGRES_URL=$PG_URL" "${TOOL_VARS[@]}" -- -count=1 ./...
	else
		record test-postgres FAIL 0 "not run: no PostgreSQL server"
	fi
fi
if want browser; then
	if [ -n "$CHROMIUM" ]; then
		suite test-browser "go test -count=1 -run Browser ./... in Chromium" \
			"KANDIDAT_TEST_CHROMIUM=$CHROMIUM" -- -count=1 -run Browser ./...
	else
		record test-browser FAIL 0 "not run: no Chromium"
	fi
fi
[ -z "$(failed_phases)" ]
