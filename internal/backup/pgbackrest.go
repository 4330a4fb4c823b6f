package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A PostgreSQL installation gets its point-in-time recovery from
// pgBackRest (docs/operations/backup-postgresql.md): full and
// differential backups plus the continuous WAL archive, in a repository
// pgBackRest encrypts. Kandidat does not drive it; it only reads what the
// repository can restore to, for the operator's backup page and metrics.

// pgBackRestCommand is the program PGBackRestInfo runs.
const pgBackRestCommand = "pgbackrest"

// pgBackRestOutputLimit bounds what is kept of pgBackRest's output: the
// info of a stanza with years of backups is a few hundred kilobytes.
const pgBackRestOutputLimit = 16 << 20

// PGBackRestInfo runs `pgbackrest info --output=json --stanza=S` and returns the PITR window.
//
// from is the earliest time a restore can reach: the end of the oldest
// backup whose WAL is still in the archive. The database is consistent
// only from a backup's end on, and pgBackRest picks a backup for a
// target time only when the backup's stop time, which it records in
// whole seconds, is earlier than the target's whole second: from is the
// first whole second after that stop time. to is the latest time the
// archive is known to reach: when the newest archived WAL segment was
// stored in the repository (read with `pgbackrest repo-ls`, as the info
// JSON of pgBackRest 2.45 names the segment but gives no time), or, when
// that cannot be read, the first second after the newest backup's end.
// A target after the last transaction in the archive ends the recovery
// with an error; restore to the latest state with `--type=default`.
// configPath "" uses pgBackRest's default configuration file.
//
// The errors name what to do: pgBackRest missing, a stanza the
// repository does not know or that has no backup yet (wrapping
// ErrNotFound), a stanza in error, or output that is not pgBackRest's
// info JSON.
func PGBackRestInfo(ctx context.Context, stanza, configPath string) (from, to time.Time, err error) {
	if !validStanza(stanza) {
		return time.Time{}, time.Time{}, fmt.Errorf("pgbackrest: stanza %q is not a valid stanza name", stanza)
	}
	bin, err := exec.LookPath(pgBackRestCommand)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("pgbackrest is not installed (Debian and Ubuntu package pgbackrest): %w", err)
	}
	args := pgBackRestArgs(configPath, "--stanza="+stanza, "--output=json", "info")
	out, err := runPGBackRest(ctx, bin, args)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	info, err := ParsePGBackRestInfo(out, stanza)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to = info.Until
	if info.ArchiveMax != "" {
		dir := path.Join("archive", stanza, info.ArchiveID, info.ArchiveMax[:16])
		args := pgBackRestArgs(configPath, "--repo="+strconv.Itoa(info.ArchiveRepo), "--output=json", "repo-ls", dir)
		if out, err := runPGBackRest(ctx, bin, args); err == nil {
			if at, ok := pgBackRestSegmentTime(out, info.ArchiveMax); ok && at.After(to) {
				to = at
			}
		} else if ctx.Err() != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	return info.From, to, nil
}

// PGBackRestStanza is what ParsePGBackRestInfo reads from the info of one
// stanza.
type PGBackRestStanza struct {
	// From is the first whole second after the stop time of the oldest
	// backup whose WAL, from its start on, is still archived: the earliest
	// target time a restore reaches.
	From time.Time
	// Until is the first whole second after the newest backup's stop time.
	Until time.Time
	// Backups counts the backups of the stanza, in every repository.
	Backups int
	// ArchiveID ("15-1"), ArchiveMax (the newest archived WAL segment,
	// "000000010000000000000004") and ArchiveRepo (its repository's
	// number) locate the newest archived WAL; ArchiveMax is "" when the
	// archive is empty.
	ArchiveID   string
	ArchiveMax  string
	ArchiveRepo int
}

// pgBackRestInfo is the part of `pgbackrest info --output=json` read here
// (pgBackRest 2.45; the JSON is documented as stable).
type pgBackRestInfo struct {
	Name    *string `json:"name"`
	Archive []struct {
		Database pgBackRestDatabase `json:"database"`
		ID       string             `json:"id"`
		Max      *string            `json:"max"`
		Min      *string            `json:"min"`
	} `json:"archive"`
	Backup []struct {
		Archive struct {
			Start *string `json:"start"`
			Stop  *string `json:"stop"`
		} `json:"archive"`
		Database  pgBackRestDatabase `json:"database"`
		Label     string             `json:"label"`
		Timestamp *struct {
			Start *int64 `json:"start"`
			Stop  *int64 `json:"stop"`
		} `json:"timestamp"`
	} `json:"backup"`
	Status *struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type pgBackRestDatabase struct {
	ID      int `json:"id"`
	RepoKey int `json:"repo-key"`
}

// The stanza status codes of pgBackRest's info.
const (
	pgBackRestOK            = 0 // ok
	pgBackRestMissingStanza = 1 // missing stanza path
	pgBackRestNoBackup      = 2 // no valid backups
	pgBackRestMissingData   = 3 // missing stanza data
	pgBackRestMixed         = 4 // different across repos (some may be in error)
)

// walSegment is a WAL segment's file name: timeline, log and segment.
var walSegment = regexp.MustCompile(`^[0-9A-F]{24}$`)

// archiveID is an archive id: the PostgreSQL version and the database id.
var archiveID = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?-[0-9]+$`)

// ParsePGBackRestInfo reads the info of stanza from the output of
// `pgbackrest info --output=json --stanza=S`. It fails, with a sentence
// naming the cause, when the output is not that JSON, names no or another
// stanza, or reports the stanza missing (wrapping ErrNotFound), without a
// backup (ErrNotFound) or in error.
func ParsePGBackRestInfo(data []byte, stanza string) (*PGBackRestStanza, error) {
	var all []pgBackRestInfo
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("pgbackrest info: the output is not the JSON of `pgbackrest info --output=json`: %w", err)
	}
	var st *pgBackRestInfo
	for i := range all {
		if all[i].Name != nil && *all[i].Name == stanza {
			st = &all[i]
			break
		}
	}
	if st == nil {
		return nil, fmt.Errorf("pgbackrest info: the output has no stanza %q", stanza)
	}
	if st.Status == nil || st.Status.Code == nil {
		return nil, fmt.Errorf("pgbackrest info: stanza %q has no status in the output", stanza)
	}
	switch code := *st.Status.Code; code {
	case pgBackRestOK, pgBackRestMixed:
	case pgBackRestMissingStanza, pgBackRestMissingData:
		return nil, fmt.Errorf("pgbackrest stanza %q is not in the repository (%s): create it with `pgbackrest --stanza=%s stanza-create`: %w",
			stanza, st.Status.Message, stanza, ErrNotFound)
	case pgBackRestNoBackup:
		return nil, fmt.Errorf("pgbackrest stanza %q has no backup yet (%s): run `pgbackrest --stanza=%s backup --type=full`: %w",
			stanza, st.Status.Message, stanza, ErrNotFound)
	default:
		return nil, fmt.Errorf("pgbackrest stanza %q is in error (code %d: %s): run `pgbackrest --stanza=%s check`",
			stanza, code, st.Status.Message, stanza)
	}

	type dbKey struct{ id, repo int }
	type archive struct{ min, max string }
	archives := map[dbKey]archive{}
	out := &PGBackRestStanza{}
	newestDB := -1
	for _, a := range st.Archive {
		if a.Min == nil || a.Max == nil {
			continue // nothing archived yet for this database
		}
		if !archiveID.MatchString(a.ID) || !walSegment.MatchString(*a.Min) || !walSegment.MatchString(*a.Max) || *a.Min > *a.Max {
			return nil, fmt.Errorf("pgbackrest info: stanza %q: archive %q has an unexpected WAL range %q to %q", stanza, a.ID, *a.Min, *a.Max)
		}
		if a.Database.RepoKey < 1 {
			return nil, fmt.Errorf("pgbackrest info: stanza %q: archive %q names no repository", stanza, a.ID)
		}
		archives[dbKey{a.Database.ID, a.Database.RepoKey}] = archive{*a.Min, *a.Max}
		// The newest WAL is the greatest segment name (timeline first) of
		// the newest database (a stanza-upgrade adds one).
		if a.Database.ID > newestDB || a.Database.ID == newestDB && *a.Max > out.ArchiveMax {
			newestDB = a.Database.ID
			out.ArchiveID, out.ArchiveMax, out.ArchiveRepo = a.ID, *a.Max, a.Database.RepoKey
		}
	}
	for _, b := range st.Backup {
		if b.Timestamp == nil || b.Timestamp.Start == nil || b.Timestamp.Stop == nil {
			return nil, fmt.Errorf("pgbackrest info: stanza %q: backup %q has no start or stop time", stanza, b.Label)
		}
		start, stop := *b.Timestamp.Start, *b.Timestamp.Stop
		if start <= 0 || stop < start || stop > maxUnix {
			return nil, fmt.Errorf("pgbackrest info: stanza %q: backup %q has an unexpected time span %d to %d", stanza, b.Label, start, stop)
		}
		out.Backups++
		end := time.Unix(stop+1, 0).UTC()
		if end.After(out.Until) {
			out.Until = end
		}
		// A backup opens the window only when the WAL from its start on is
		// archived: archive retention may have expired it.
		a, ok := archives[dbKey{b.Database.ID, b.Database.RepoKey}]
		if !ok || b.Archive.Start == nil || *b.Archive.Start < a.min || *b.Archive.Start > a.max {
			continue
		}
		if out.From.IsZero() || end.Before(out.From) {
			out.From = end
		}
	}
	if out.Backups == 0 {
		return nil, fmt.Errorf("pgbackrest stanza %q has no backup yet: run `pgbackrest --stanza=%s backup --type=full`: %w", stanza, stanza, ErrNotFound)
	}
	if out.From.IsZero() {
		return nil, fmt.Errorf("pgbackrest stanza %q: no backup has its WAL in the archive, so no point in time can be restored: check archive_command and run `pgbackrest --stanza=%s check`: %w",
			stanza, stanza, ErrNotFound)
	}
	return out, nil
}

// maxUnix is the year 9999: a time beyond it is not pgBackRest's.
const maxUnix = 253402300799

// pgBackRestSegmentTime finds, in the output of `pgbackrest repo-ls
// --output=json` of an archive folder, when segment was stored (its file
// is named SEGMENT-SHA1 with an extension when compressed).
func pgBackRestSegmentTime(data []byte, segment string) (time.Time, bool) {
	var entries map[string]struct {
		Type string `json:"type"`
		Time *int64 `json:"time"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return time.Time{}, false
	}
	var newest int64
	for name, e := range entries {
		if e.Type != "file" || e.Time == nil || !strings.HasPrefix(name, segment+"-") {
			continue
		}
		if *e.Time > newest && *e.Time <= maxUnix {
			newest = *e.Time
		}
	}
	if newest <= 0 {
		return time.Time{}, false
	}
	return time.Unix(newest, 0).UTC(), true
}

// pgBackRestArgs puts the configuration file first.
func pgBackRestArgs(configPath string, args ...string) []string {
	if configPath == "" {
		return args
	}
	return append([]string{"--config=" + configPath}, args...)
}

// runPGBackRest runs pgBackRest and returns its standard output; a
// failure carries the last line pgBackRest wrote (its error message).
func runPGBackRest(ctx context.Context, bin string, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr limitedBuffer
	stdout.limit, stderr.limit = pgBackRestOutputLimit, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("pgbackrest %s: %w", pgBackRestAction(args), ctx.Err())
	}
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = lastLine(stdout.String())
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("pgbackrest %s: %s", pgBackRestAction(args), msg)
	}
	if stdout.over {
		return nil, fmt.Errorf("pgbackrest %s: the output is larger than %d bytes", pgBackRestAction(args), pgBackRestOutputLimit)
	}
	return stdout.Bytes(), nil
}

// pgBackRestAction is the command of args, for messages: the first
// argument that is not an option.
func pgBackRestAction(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// validStanza accepts what pgBackRest accepts as a stanza name in
// practice and nothing that could read as an option.
func validStanza(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// limitedBuffer keeps the first limit bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room < len(p) {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
