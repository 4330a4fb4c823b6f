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
	"slices"
	"strings"
	"time"
)

// Entry is one backup found on a target.
type Entry struct {
	ID       string
	Time     time.Time // from the id
	Complete bool      // manifest present
	// Future: the id's time is more than FutureSkew ahead of this clock (a
	// clock error, or an object planted on the target). Such a backup is
	// listed, but Newest never takes it: it would never let the target be
	// due, and a restore without an id would pick it.
	Future   bool
	Size     int64 // sum of stored objects
	Objects  int
	Verified *VerifyRecord // nil when never verified
}

// FutureSkew is how far ahead of this clock a backup id's time may be
// before the backup counts as Future.
const FutureSkew = 10 * time.Minute

// idLayout is the time part of a backup id of the first form (to the
// second), which ParseID still reads; idLayoutMilli is that of the ids
// NewID makes (to the millisecond).
const (
	idLayout      = "20060102T150405Z"
	idLayoutMilli = "20060102T150405.000Z"
)

// NewID returns a backup id for a backup begun at now: the UTC time to the
// millisecond and six random hex digits, 20261203T020000.123Z-3fa9c1. Two
// backups begun in the same second (by the command line and the
// scheduler, two processes) are told apart and ordered by the
// milliseconds, and by the random digits within one millisecond.
func NewID(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return now.UTC().Format(idLayoutMilli) + "-" + hex.EncodeToString(b)
}

// ParseID checks a backup id and returns its time. It reads both forms:
// YYYYMMDDTHHMMSS.mmmZ-xxxxxx (NewID's) and YYYYMMDDTHHMMSSZ-xxxxxx (the
// first, of backups made before the milliseconds).
func ParseID(id string) (time.Time, error) {
	bad := fmt.Errorf("%q is not a backup id (YYYYMMDDTHHMMSS.mmmZ-xxxxxx)", id)
	ts, suffix, ok := strings.Cut(id, "-")
	if !ok || len(suffix) != 6 {
		return time.Time{}, bad
	}
	for _, c := range suffix {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return time.Time{}, bad
		}
	}
	layout := idLayoutMilli
	if len(ts) == len(idLayout) {
		layout = idLayout
	} else if len(ts) != len(idLayoutMilli) {
		return time.Time{}, bad
	}
	t, err := time.Parse(layout, ts)
	// Formatted back to the same text: one spelling per time (time.Parse
	// also takes a comma for the point).
	if err != nil || t.Format(layout) != ts {
		return time.Time{}, bad
	}
	return t.UTC(), nil
}

// idOrder orders backups by the time of their ids, then by id (the
// random digits): the ids' text alone does not, as an id of the first
// form sorts after one of the same second with milliseconds.
func idOrder(aTime time.Time, aID string, bTime time.Time, bID string) int {
	if c := aTime.Compare(bTime); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}

// maxVerifyRecord bounds a verified.json read back.
const maxVerifyRecord = 64 << 10

// List returns the backups on t, newest first (by the time of their ids,
// then by id). Keys that are not under a backup id are ignored; a
// verified.json that does not parse counts as never verified. A backup
// whose id's time is more than FutureSkew ahead of the clock is listed
// with Future set.
func List(ctx context.Context, t Target) ([]Entry, error) {
	return list(ctx, t, time.Now())
}

func list(ctx context.Context, t Target, now time.Time) ([]Entry, error) {
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
			e = &Entry{ID: id, Time: at, Future: at.Sub(now) > FutureSkew}
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
	slices.SortFunc(out, func(a, b Entry) int { return idOrder(b.Time, b.ID, a.Time, a.ID) })
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

// Newest returns the newest complete backup on t; ErrNotFound when there
// is none. A Future backup is never the newest: one planted with a time
// far ahead would otherwise be restored in place of the real newest, and
// keep the target from ever being due.
func Newest(ctx context.Context, t Target) (*Entry, error) {
	es, err := List(ctx, t)
	if err != nil {
		return nil, err
	}
	future := 0
	for _, e := range es {
		if e.Complete && e.Future {
			future++
		} else if e.Complete {
			return &e, nil
		}
	}
	if future > 0 {
		return nil, fmt.Errorf("%w: target %s holds no complete backup but %d dated in the future (a wrong clock, or objects not made by Kandidat): name one by its id to use it", ErrNotFound, t.Name(), future)
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
