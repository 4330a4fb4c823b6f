package blob

import (
	"context"
	"io"
)

// EncryptTo exposes the encryption step alone to the benchmarks.
func (s *Store) EncryptTo(ctx context.Context, tenantID, objectID string, dst io.Writer, r io.Reader) (*Object, error) {
	return s.encrypt(ctx, tenantID, objectID, dst, r, 0)
}
