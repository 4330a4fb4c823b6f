package account

import "context"

// Acquire takes one of the hasher's slots, as a running hash does.
func (h *Hasher) Acquire(ctx context.Context) error { return h.acquire(ctx) }

// Release gives back a slot taken by Acquire.
func (h *Hasher) Release() { h.release() }

// HasherConcurrency returns how many hashes h runs at once.
func HasherConcurrency(h *Hasher) int { return cap(h.sem) }

// ParseArgon2 exposes the stored-hash parser to the fuzz test.
var ParseArgon2 = parseArgon2
