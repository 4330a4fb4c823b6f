package backup

import "errors"

// The errors of the package. Functions wrap them with %w and a sentence
// naming what failed, so errors.Is holds and the message tells a person
// what to do.
var (
	// ErrNotFound: no such backup, or no such object on the target.
	ErrNotFound = errors.New("backup not found")
	// ErrIncomplete: the backup has no manifest (its creation was killed,
	// failed, or is still running).
	ErrIncomplete = errors.New("backup is incomplete (no manifest)")
	// ErrCorrupt: a part's size or hash does not match the manifest, or a
	// part does not decrypt (truncated or changed).
	ErrCorrupt = errors.New("backup is corrupt")
	// ErrWrongIdentity: none of the given age identities opens the backup.
	ErrWrongIdentity = errors.New("no given age identity opens the backup")
	// ErrNewerSchema: the backup was made by a newer version whose schema
	// this binary does not know; upgrade before restoring.
	ErrNewerSchema = errors.New("backup schema is newer than this version knows")
	// ErrNotEmpty: the restore destination already holds an installation
	// and overwriting it was not asked for.
	ErrNotEmpty = errors.New("restore destination is not empty")
	// ErrTarget: a target failed (unreachable, full, permission denied,
	// missing bucket). The wrapping message reads "target NAME (LOCATION): ...".
	ErrTarget = errors.New("backup target failed")
)
