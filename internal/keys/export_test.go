package keys

import (
	"context"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/aead/aesgcm"
	"github.com/tink-crypto/tink-go/v2/insecuresecretdataaccess"
)

// RawDataKeys returns the raw AES key bytes of a tenant's keyset, so tests
// can check they never reach the database in clear.
func RawDataKeys(ctx context.Context, k *Keyring, tenantID string) ([][]byte, error) {
	dk, _, err := k.key(ctx, tenantID, true)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i := range dk.handle.Len() {
		e, err := dk.handle.Entry(i)
		if err != nil {
			return nil, err
		}
		key, ok := e.Key().(*aesgcm.Key)
		if !ok {
			return nil, fmt.Errorf("key %d is %T, want *aesgcm.Key", e.KeyID(), e.Key())
		}
		out = append(out, key.KeyBytes().Data(insecuresecretdataaccess.Token{}))
	}
	return out, nil
}

// RawMasterKey returns the bytes of a master key.
func RawMasterKey(m *MasterKey) []byte { return m.key }
