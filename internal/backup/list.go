package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Entry is one backup found on a target.
type Entry struct {
	ID       string
	Time     time.Time // from the id
	Complete bool      // manifest present
	Size     int64     // sum of stored objects
	Objects  int
	Verified *VerifyRecord // nil when never verified
}

// idLayout is the time part of a backup id.
const idLayout = "20060102T150405Z"

// NewID returns a backup id for a backup begun at now: the UTC time to the
// second and six random hex digits, so ids sort by time and two backups
// begun in the same second differ.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return now.UTC().Format(idLayout) + "-" + hex.EncodeToString(b)
}

// ParseID checks a backup id and returns its time.
func ParseID(id string) (time.Time, error) {
	ts, suffix, ok := strings.Cut(id, "-")
	if !ok || len(ts) != len(idLayout) || len(suffix) != 6 {
		return time.Time{}, fmt.Errorf("%q is not a backup id (YYYYMMDDTHHMMSSZ-xxxxxx)", id)
	}
	for _, c := range suffix {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return time.Time{}, fmt.Errorf("%q is not a backup id (YYYYMMDDTHHMMSSZ-xxxxxx)", id)
		}
	}
	t, err := time.Parse(idLayout, ts)
	if err != nil || t.Format(idLayout) != ts {
		return time.Time{}, fmt.Errorf("%q is not a backup id (YYYYMMDDTHHMMSSZ-xxxxxx)", id)
	}
	return t.UTC(), nil
}

// maxVerifyRecord bounds a verified.json read back.
const maxVerifyRecord = 64 << 10

// List returns the backups on t, newest first. Keys that are not under a
// backup id are ignored; a verified.json that does not parse counts as
// never verified.
func List(ctx context.Context, t Target) ([]Entry, error) {
	objs, err := t.List(ctx, "")
	if err != nil {
		return nil, err
	}
	byID := map[string]*Entry{}
	for _, o := range objs {
		id, name, ok := strings.Cut(o.Key, "/")
		if !ok || name == "" {
			continue
		}
		at, err := ParseID(id)
		if err != nil {
			continue
		}
		e := byID[id]
		if e == nil {
			e = &Entry{ID: id, Time: at}
			byID[id] = e
		}
		e.Objects++
		e.Size += o.Size
		switch name {
		case ManifestObject:
			e.Complete = true
		case VerifiedObject:
			if r, err := readVerify(ctx, t, id); err == nil {
				e.Verified = r
			}
		}
	}
	out := make([]Entry, 0, len(byID))
	for _, e := range byID {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

func readVerify(ctx context.Context, t Target, id string) (*VerifyRecord, error) {
	rc, err := t.Get(ctx, id+"/"+VerifiedObject)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxVerifyRecord))
	if err != nil {
		return nil, err
	}
	var r VerifyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.ID != id {
		return nil, errors.New("verify record of another backup")
	}
	return &r, nil
}

// Newest returns the newest complete backup on t; ErrNotFound when there is none.
func Newest(ctx context.Context, t Target) (*Entry, error) {
	es, err := List(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Complete {
			return &e, nil
		}
	}
	return nil, fmt.Errorf("%w: target %s holds no complete backup", ErrNotFound, t.Name())
}

// RecordVerify writes r as the backup's verified.json (plaintext: it holds
// no personal data), replacing the previous one.
func RecordVerify(ctx context.Context, t Target, r VerifyRecord) error {
	if _, err := ParseID(r.ID); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return t.Put(ctx, r.ID+"/"+VerifiedObject, bytes.NewReader(append(b, '\n')))
}
