//go:build !unix

package app

// Without flock (not a Unix system) the data directory is not locked:
// stop the servers before a restore, as the procedure says.
func lockShared(string) (func(), error)    { return func() {}, nil }
func lockExclusive(string) (func(), error) { return func() {}, nil }
