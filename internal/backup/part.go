package backup

import (
	"context"
	"fmt"

	"filippo.io/age"
)

// FetchPart fetches the part named name (Part.Name, e.g. PartLedger) of
// backup id into path, checking its sizes and hashes against the manifest
// like Fetch: a restore reads the erasure ledger of other backups this way
// without downloading their files.
func FetchPart(ctx context.Context, t Target, id string, ids []age.Identity, name, path string) error {
	m, err := readManifest(ctx, t, id, ids)
	if err != nil {
		return err
	}
	p := m.Part(name)
	if p == nil {
		return fmt.Errorf("%w: backup %s has no part %s", ErrNotFound, id, name)
	}
	return fetchPart(ctx, t, m.ID, *p, ids, path, make([]byte, bufSize))
}
