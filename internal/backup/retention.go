package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// incompleteAfter is how long a backup without a manifest may still be
// in the making before retention takes it for the leftover of a killed
// or failed create.
const incompleteAfter = 24 * time.Hour

// idTimeLayout is the time part of a backup id of the first form, to the
// second (ParseID reads it and NewID's, to the millisecond).
const idTimeLayout = idLayout

// parseIDTime reads the creation time of a backup id (either form
// ParseID reads); ok is false for anything else, which retention never
// touches.
func parseIDTime(id string) (time.Time, bool) {
	t, err := ParseID(id)
	return t, err == nil
}

// stored is one backup as retention sees it on a target.
type stored struct {
	id       string
	time     time.Time
	complete bool
	modified time.Time // newest modification of its objects
	keys     []string
}

// Prune deletes, on t, what the spec's retention no longer keeps and
// returns the ids it deleted, oldest first:
//   - complete backups beyond the newest Keep AND older than MaxAge are
//     deleted (Keep=14, MaxAge=30d: the newest 14 always stay, older ones
//     stay until 30 days old; Keep=0: only age counts; MaxAge=0: only
//     count counts; both 0: every complete backup stays);
//   - incomplete backups (no manifest) are deleted when their id and
//     every object are older than 24 h (a killed or failed create; a slow
//     upload still writing is left alone);
//   - the newest complete backup is never deleted.
//
// A backup's manifest is deleted first, so a half-deleted backup never
// lists as complete. Objects whose first segment is not a backup id are
// never touched. On error, the ids deleted so far are returned with it.
func Prune(ctx context.Context, t Target, s Spec, now time.Time) ([]string, error) {
	objs, err := t.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	byID := map[string]*stored{}
	for _, o := range objs {
		id, rest, ok := strings.Cut(o.Key, "/")
		if !ok {
			continue
		}
		ts, ok := parseIDTime(id)
		if !ok {
			continue
		}
		b := byID[id]
		if b == nil {
			b = &stored{id: id, time: ts}
			byID[id] = b
		}
		b.keys = append(b.keys, o.Key)
		if rest == ManifestObject {
			b.complete = true
		}
		if o.Modified.After(b.modified) {
			b.modified = o.Modified
		}
	}
	var complete, doomed []*stored
	for _, b := range byID {
		if b.time.Sub(now) > FutureSkew {
			// An id from the future (a clock error, or planted) is
			// neither counted nor deleted: the operator sees it listed.
			continue
		}
		if b.complete {
			complete = append(complete, b)
		} else if now.Sub(b.time) > incompleteAfter && now.Sub(b.modified) > incompleteAfter {
			doomed = append(doomed, b)
		}
	}
	// Newest first, by the time of the ids (not their text: an id of the
	// first form sorts after one with milliseconds of the same second).
	slices.SortFunc(complete, func(a, b *stored) int { return idOrder(b.time, b.id, a.time, a.id) })
	if s.Keep > 0 || s.MaxAge > 0 {
		for i, b := range complete {
			if i == 0 {
				continue // the newest complete backup always stays
			}
			beyondCount := s.Keep == 0 || i >= s.Keep
			tooOld := s.MaxAge == 0 || now.Sub(b.time) > s.MaxAge
			if beyondCount && tooOld {
				doomed = append(doomed, b)
			}
		}
	}
	slices.SortFunc(doomed, func(a, b *stored) int { return idOrder(a.time, a.id, b.time, b.id) })
	var deleted []string
	for _, b := range doomed {
		if err := deleteBackup(ctx, t, b); err != nil {
			return deleted, fmt.Errorf("prune backup %s: %w", b.id, err)
		}
		deleted = append(deleted, b.id)
	}
	return deleted, nil
}

// deleteBackup deletes every object of b, the manifest first.
func deleteBackup(ctx context.Context, t Target, b *stored) error {
	manifest := b.id + "/" + ManifestObject
	if b.complete {
		if err := t.Delete(ctx, manifest); err != nil {
			return err
		}
	}
	for _, k := range b.keys {
		if k == manifest {
			continue
		}
		if err := t.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
