package web

import (
	"os"
	"testing"

	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// TestMain lowers the whistleblowing channel's Argon2id cost for the
// package's tests (set once, before any test runs, since tests run in
// parallel); internal/whistle's benchmarks measure the real cost.
func TestMain(m *testing.M) {
	vault.Params = vault.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}
	os.Exit(m.Run())
}
