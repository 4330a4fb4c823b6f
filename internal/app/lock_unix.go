//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is the file in the data directory that serve holds a shared
// lock on while it runs, and a restore an exclusive one: a restore never
// replaces the database under a running server.
const lockFile = "kandidat.lock"

func flock(dataDir string, how int) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dataDir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// lockShared is serve's lock: any number of servers, no restore.
func lockShared(dataDir string) (func(), error) {
	unlock, err := flock(dataDir, syscall.LOCK_SH)
	if errors.Is(err, errLocked) {
		return nil, errors.New("a restore is running on this data directory; start the server when it has finished")
	}
	return unlock, err
}

// lockExclusive is a restore's lock: no server meanwhile.
func lockExclusive(dataDir string) (func(), error) {
	unlock, err := flock(dataDir, syscall.LOCK_EX)
	if errors.Is(err, errLocked) {
		return nil, errors.New("a server (or another restore) is running on this data directory: stop every `kandidat serve` of the installation first")
	}
	return unlock, err
}

var errLocked = errors.New("locked")
