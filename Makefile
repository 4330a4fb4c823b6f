# Thin aliases: plain `go test ./...` always works on its own.
# docs/testing.md describes the test suite.

.PHONY: test test-sqlite bench bench-pages bench-sweep bench-backup run lint fmt

# Everything CI runs: lint, the suite on SQLite and on PostgreSQL, the browser
# tests. Installs PostgreSQL and Chromium when missing.
test:
	bash scripts/test.sh

# The suite on SQLite only, nothing installed or started.
test-sqlite:
	env -u KANDIDAT_TEST_POSTGRES_URL go test ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

# The page benchmark on seeded data: seed, serve, time each staff page with
# kandidat bench (SCALE=medium, CLIENTS=1,8, ENGINE=postgres DATABASE_URL=...).
bench-pages:
	bash scripts/bench-pages.sh

# The erasure sweep over the seeded installation bench-pages leaves, with the
# staff pages timed idle and while it erases.
bench-sweep:
	bash scripts/bench-sweep.sh

# Backup and restore of the seeded installation bench-pages leaves, with the
# staff pages timed idle and while a backup is written beside the server.
bench-backup:
	bash scripts/bench-backup.sh

run:
	go run ./cmd/kandidat serve --demo

# gofmt -l, go vet, staticcheck and govulncheck.
lint:
	bash scripts/test.sh lint

fmt:
	go fmt ./...
