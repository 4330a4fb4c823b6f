package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Target keeps backup objects under keys like "<id>/manifest.json.age".
//
// Every failure of the target itself (unreachable, full, permission
// denied, missing bucket, refused credentials) wraps ErrTarget and names
// the target by Name and Location, never by its credentials. Get of an
// absent key wraps ErrNotFound. A key is a slash-separated relative path
// without empty, "." or ".." segments or backslashes; others are refused.
type Target interface {
	// Name is the configured name, or the location for an ad-hoc target.
	Name() string
	// Location says where, without credentials (for logs and pages).
	Location() string
	// Put stores r under key; a concurrent List or Get never sees a
	// partial object under key (directory: temp file, fsync, rename, fsync
	// of the directory; S3: one PutObject of a spooled copy, or a
	// multipart upload that becomes visible only when completed). When
	// ctx is cancelled or r fails, nothing is left under key.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the object under key; ErrNotFound when absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes the object under key; no error when it is absent.
	Delete(ctx context.Context, key string) error
}

// Object is one stored object of a target.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Spec is one configured target.
type Spec struct {
	Name string
	// URL is the location as configured; it may hold credentials: never print it (use Location).
	URL string
	// Every is the schedule; 0: only on demand.
	Every time.Duration
	// Keep is how many complete backups retention keeps at least (0: no count bound; see Prune).
	Keep int
	// MaxAge: complete backups older than this are deleted, but never the newest Keep (see Prune).
	MaxAge time.Duration
}

// OpenOptions tune Open.
type OpenOptions struct {
	// TmpDir holds uploads spooled to learn their size ("" = os.TempDir()).
	TmpDir string
	// HTTPClient reaches S3 targets (nil: the SDK's default).
	HTTPClient *http.Client
}

const (
	// s3PutLimit is the largest object one PutObject may carry.
	s3PutLimit = 5 << 30
	// s3PartSize is the part size of multipart uploads of larger objects.
	s3PartSize = 64 << 20
	// s3MaxParts is S3's limit on the parts of one upload.
	s3MaxParts = 10000
	// tmpPrefix starts the name of a directory target's files being written.
	tmpPrefix = ".tmp-"
)

var nameRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// bucketRE accepts the S3 bucket names (and the underscores and capitals
// some compatible servers still allow).
var bucketRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$`)

// location is a parsed target location.
type location struct {
	kind string // "dir" or "s3"
	// dir
	path string
	// s3
	bucket, prefix, endpoint, region string
	pathStyle, insecure              bool
	access, secret                   string
	// schedule and retention (any kind)
	every, maxAge time.Duration
	keep          int
}

// ParseSpecs reads the --backup-targets setting: space- or
// newline-separated NAME=LOCATION entries. LOCATION is an absolute
// directory path, file:///path or
// s3://[ACCESS:SECRET@]bucket[/prefix]?endpoint=URL[&region=R][&path-style=true][&insecure=true]
// (ACCESS and SECRET percent-encoded; without them the environment's
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are used; an http://
// endpoint is refused unless it is on this machine or insecure=true).
// The query options every=1h|24h|7d, keep=N and max-age=30d (d = 24h)
// apply to any kind; in a bare path the query starts at the first "?".
// Names match [a-z0-9-]{1,32} and are unique. Errors say which entry and
// what is wrong, and never repeat the location (it may hold a secret).
func ParseSpecs(s string) ([]Spec, error) {
	var specs []Spec
	seen := map[string]bool{}
	for i, entry := range strings.Fields(s) {
		name, loc, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("backup target %d: want NAME=LOCATION, e.g. local=/var/backups/kandidat", i+1)
		}
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("backup target %d: the name must be 1 to 32 lowercase letters, digits or dashes", i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("backup target %q: the name is used twice", name)
		}
		seen[name] = true
		l, err := parseLocation(loc)
		if err != nil {
			return nil, fmt.Errorf("backup target %q: %w", name, err)
		}
		specs = append(specs, Spec{Name: name, URL: loc, Every: l.every, Keep: l.keep, MaxAge: l.maxAge})
	}
	return specs, nil
}

// ParseLocation makes an ad-hoc Spec from a bare path or URL (the CLI's
// --to and --from when they name no configured target); its Name is the
// location without credentials. A relative path must start with ./ or ../
// (so that a mistyped target name is not taken for a directory) and is
// made absolute.
func ParseLocation(loc string) (Spec, error) {
	if strings.HasPrefix(loc, "./") || strings.HasPrefix(loc, "../") || loc == "." || loc == ".." {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return Spec{}, fmt.Errorf("backup location: %w", err)
		}
		loc = abs
	}
	l, err := parseLocation(loc)
	if err != nil {
		return Spec{}, fmt.Errorf("backup location: %w", err)
	}
	s := Spec{URL: loc, Every: l.every, Keep: l.keep, MaxAge: l.maxAge}
	s.Name = l.String()
	return s, nil
}

// Location returns where the target is, without credentials.
func (s Spec) Location() string {
	l, err := parseLocation(s.URL)
	if err != nil {
		return "(invalid backup location)"
	}
	return l.String()
}

// String is the location without credentials, in a form parseLocation reads back.
func (l location) String() string {
	if l.kind == "dir" {
		return l.path
	}
	var b strings.Builder
	b.WriteString("s3://")
	b.WriteString(l.bucket)
	if l.prefix != "" {
		b.WriteString((&url.URL{Path: "/" + strings.TrimSuffix(l.prefix, "/")}).EscapedPath())
	}
	b.WriteString("?endpoint=")
	b.WriteString(queryValue(l.endpoint))
	b.WriteString("&region=")
	b.WriteString(queryValue(l.region))
	if l.pathStyle {
		b.WriteString("&path-style=true")
	}
	if l.insecure {
		b.WriteString("&insecure=true")
	}
	return b.String()
}

// queryValue escapes a query value but leaves the ":" and "/" of a URL readable.
func queryValue(v string) string {
	return strings.NewReplacer("%3A", ":", "%2F", "/").Replace(url.QueryEscape(v))
}

// parseLocation parses a configured location. Its errors never contain
// the location (it may hold a secret).
func parseLocation(loc string) (location, error) {
	if loc == "" {
		return location{}, errors.New("the location is empty")
	}
	if strings.ContainsFunc(loc, isControl) {
		return location{}, errors.New("the location contains control characters")
	}
	scheme, _, hasScheme := strings.Cut(loc, "://")
	if !hasScheme || strings.HasPrefix(loc, "/") {
		return parseDirLocation(loc, "")
	}
	switch strings.ToLower(scheme) {
	case "file":
		return parseFileURL(loc)
	case "s3":
		return parseS3URL(loc)
	case "sftp":
		return location{}, errors.New("sftp targets are not supported; mount the remote directory (sshfs) and use a directory target")
	default:
		return location{}, errors.New("unknown kind of location: use an absolute directory path, file:///path or s3://bucket/prefix?endpoint=URL")
	}
}

func parseDirLocation(loc, fromURL string) (location, error) {
	path, query, _ := strings.Cut(loc, "?")
	if fromURL != "" {
		path = fromURL
	}
	if !filepath.IsAbs(path) {
		return location{}, errors.New("a directory target needs an absolute path, e.g. /var/backups/kandidat")
	}
	if strings.ContainsAny(path, "?#") || strings.ContainsFunc(path, isControl) {
		return location{}, errors.New("a directory target's path may not contain ?, # or control characters")
	}
	l := location{kind: "dir", path: filepath.Clean(path)}
	if l.path == "/" {
		return location{}, errors.New("a directory target needs a directory of its own, not /")
	}
	q, err := parseQuery(query)
	if err != nil {
		return location{}, err
	}
	if err := l.applyQuery(q); err != nil {
		return location{}, err
	}
	return l, nil
}

func parseFileURL(loc string) (location, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return location{}, errors.New("not a valid file:// URL")
	}
	if u.User != nil || (u.Host != "" && u.Host != "localhost") {
		return location{}, errors.New("a file:// URL names a directory on this machine: file:///path")
	}
	if u.Fragment != "" {
		return location{}, errors.New("a file:// URL may not have a #fragment")
	}
	return parseDirLocation("?"+u.RawQuery, u.Path)
}

func parseS3URL(loc string) (location, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return location{}, errors.New("not a valid s3:// URL (percent-encode special characters of the access key and secret)")
	}
	if u.Fragment != "" {
		return location{}, errors.New("an s3:// URL may not have a #fragment")
	}
	l := location{kind: "s3", bucket: u.Host, region: "us-east-1"}
	if !bucketRE.MatchString(l.bucket) {
		return location{}, errors.New("an s3:// URL needs a bucket name of 3 to 63 letters, digits, dots, dashes or underscores: s3://bucket/prefix?endpoint=URL")
	}
	if u.User != nil {
		l.access = u.User.Username()
		l.secret, _ = u.User.Password()
		if l.access == "" || l.secret == "" {
			return location{}, errors.New("the credentials of an s3:// URL are ACCESS:SECRET@ (both percent-encoded)")
		}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if err := checkKey(p); err != nil {
			return location{}, fmt.Errorf("the prefix of the s3:// URL: %w", err)
		}
		l.prefix = p + "/"
	}
	q, err := parseQuery(u.RawQuery)
	if err != nil {
		return location{}, err
	}
	if v, ok := take(q, "endpoint"); ok {
		l.endpoint = v
	}
	if v, ok := take(q, "region"); ok {
		if v == "" || strings.ContainsAny(v, " /?#&") || strings.ContainsFunc(v, isControl) {
			return location{}, errors.New("region must be a region name, e.g. region=eu-north-1")
		}
		l.region = v
	}
	for _, opt := range []struct {
		key string
		to  *bool
	}{{"path-style", &l.pathStyle}, {"insecure", &l.insecure}} {
		if v, ok := take(q, opt.key); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return location{}, fmt.Errorf("%s must be true or false", opt.key)
			}
			*opt.to = b
		}
	}
	if l.endpoint == "" {
		return location{}, errors.New("an s3:// URL needs ?endpoint=URL, e.g. ?endpoint=https://s3.eu-north-1.amazonaws.com")
	}
	ep, err := url.Parse(l.endpoint)
	if err != nil || (ep.Scheme != "https" && ep.Scheme != "http") || ep.Host == "" || ep.Opaque != "" {
		return location{}, errors.New("endpoint must be an http:// or https:// URL, e.g. https://s3.eu-north-1.amazonaws.com")
	}
	if ep.User != nil {
		return location{}, errors.New("endpoint may not hold credentials: write them as s3://ACCESS:SECRET@bucket")
	}
	if ep.RawQuery != "" || ep.Fragment != "" || strings.ContainsAny(l.endpoint, "?#") {
		return location{}, errors.New("endpoint may not have a query or fragment")
	}
	if ep.Scheme == "http" && !l.insecure && !isLoopback(ep.Hostname()) {
		return location{}, errors.New("endpoint uses plain http:// to another machine: use https://, or add insecure=true if the network is trusted")
	}
	if err := l.applyQuery(q); err != nil {
		return location{}, err
	}
	return l, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseQuery parses a location's query, refusing repeated options.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("the options after ? are not a valid query (key=value&key=value)")
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, fmt.Errorf("the option %q is given twice", k)
		}
	}
	return q, nil
}

func take(q url.Values, key string) (string, bool) {
	v, ok := q[key]
	if !ok {
		return "", false
	}
	delete(q, key)
	return v[0], true
}

// applyQuery reads the options of every kind and refuses what is left.
func (l *location) applyQuery(q url.Values) error {
	if v, ok := take(q, "every"); ok {
		d, err := parseDays(v)
		if err != nil {
			return fmt.Errorf("every: %w", err)
		}
		l.every = d
	}
	if v, ok := take(q, "max-age"); ok {
		d, err := parseDays(v)
		if err != nil {
			return fmt.Errorf("max-age: %w", err)
		}
		l.maxAge = d
	}
	if v, ok := take(q, "keep"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return errors.New("keep must be a whole number of backups, 0 or more")
		}
		l.keep = n
	}
	if len(q) > 0 {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		known := "every, keep, max-age"
		if l.kind == "s3" {
			known += ", endpoint, region, path-style, insecure"
		}
		return fmt.Errorf("unknown option %q (known: %s)", keys[0], known)
	}
	return nil
}

// parseDays parses a Go duration, or a whole number of days ("7d").
func parseDays(v string) (time.Duration, error) {
	const bad = "want a duration such as 1h, 24h or 7d"
	var d time.Duration
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*366 {
			return 0, errors.New(bad)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, errors.New(bad)
		}
	}
	if d < 0 {
		return 0, errors.New("may not be negative")
	}
	return d, nil
}

// checkKey refuses keys that could leave a directory target's root or
// that name no single object.
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > 1024:
		return errors.New("key longer than 1024 bytes")
	case strings.HasPrefix(key, "/"):
		return errors.New("absolute key")
	case strings.ContainsRune(key, '\\'):
		return errors.New("key with a backslash")
	case strings.ContainsFunc(key, isControl):
		return errors.New("key with control characters")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return errors.New("key with an empty segment")
		case seg == "." || seg == "..":
			return fmt.Errorf("key with a %q segment", seg)
		case strings.HasPrefix(seg, tmpPrefix):
			return fmt.Errorf("key segment starting with %q (reserved for files being written)", tmpPrefix)
		}
	}
	return nil
}

// checkPrefix refuses list prefixes that could leave the root.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// "a/b/" and "a/b" and "2026" are all fine; what matters is that no
	// segment climbs out.
	return checkKey(strings.TrimSuffix(prefix, "/"))
}

// Open connects a target. Nothing is written and nothing is contacted:
// a directory target's root is created (0700) by its first Put.
func Open(s Spec, o OpenOptions) (Target, error) {
	l, err := parseLocation(s.URL)
	if err != nil {
		return nil, fmt.Errorf("backup target %q: %w", s.Name, err)
	}
	name := s.Name
	if name == "" {
		name = l.String()
	}
	label := targetLabel{name: name, loc: l.String()}
	switch l.kind {
	case "dir":
		return &dirTarget{targetLabel: label, root: l.path}, nil
	case "s3":
		return openS3(label, l, o)
	}
	return nil, fmt.Errorf("backup target %q: unknown kind", s.Name)
}

// targetLabel names a target in errors.
type targetLabel struct{ name, loc string }

func (t targetLabel) Name() string     { return t.name }
func (t targetLabel) Location() string { return t.loc }

func (t targetLabel) String() string {
	if t.name == t.loc {
		return "target " + t.loc
	}
	return fmt.Sprintf("target %s (%s)", t.name, t.loc)
}

// targetError is a failure of a target: it wraps ErrTarget and the cause.
type targetError struct {
	label targetLabel
	msg   string
	err   error
	// detail, when set, stands for err in the message (the SDK's errors
	// are long).
	detail string
}

func (e *targetError) Error() string {
	switch {
	case e.detail != "":
		return e.label.String() + ": " + e.msg + " (" + e.detail + ")"
	case e.err == nil:
		return e.label.String() + ": " + e.msg
	}
	return e.label.String() + ": " + e.msg + ": " + e.err.Error()
}

func (e *targetError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrTarget}
	}
	return []error{ErrTarget, e.err}
}

// fsError turns a file system error of a directory target into a
// sentence saying what the operator must do.
func fsError(label targetLabel, what string, err error) error {
	var msg string
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		msg = "the target is full (no space left) while trying to " + what + "; free space or keep fewer backups"
	case errors.Is(err, syscall.EROFS):
		msg = "the target is on a read-only file system, cannot " + what
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied, cannot " + what + "; make the directory writable by the user Kandidat runs as"
	case errors.Is(err, syscall.ENOTDIR):
		msg = "a part of the path is a file, not a directory, cannot " + what
	default:
		msg = "cannot " + what
	}
	return &targetError{label: label, msg: msg, err: err}
}

// ctxReader stops a copy when ctx is done, and remembers whether the
// source (not the destination) failed.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// sourceError is the error of a Put whose reader (or context) failed:
// not the target's fault.
func sourceError(key string, err error) error {
	return fmt.Errorf("store %s: %w", key, err)
}

// dirTarget keeps objects as files under root.
type dirTarget struct {
	targetLabel
	root string
}

func (t *dirTarget) path(key string) string {
	return filepath.Join(t.root, filepath.FromSlash(key))
}

func (t *dirTarget) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("store %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return sourceError(key, err)
	}
	dst := t.path(key)
	dir := filepath.Dir(dst)
	var f *os.File
	// A concurrent Delete may remove the (empty) directory between the
	// two calls: try twice.
	for range 2 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fsError(t.targetLabel, "create the directory for "+key, err)
		}
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return fsError(t.targetLabel, "write "+key, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	src := &ctxReader{ctx: ctx, r: r}
	if _, err := io.Copy(f, src); err != nil {
		if src.err != nil {
			return sourceError(key, src.err)
		}
		return fsError(t.targetLabel, "write "+key, err)
	}
	if err := f.Sync(); err != nil {
		return fsError(t.targetLabel, "write "+key, err)
	}
	if err := f.Close(); err != nil {
		return fsError(t.targetLabel, "write "+key, err)
	}
	if err := ctx.Err(); err != nil {
		return sourceError(key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fsError(t.targetLabel, "write "+key, err)
	}
	if err := syncDir(dir); err != nil {
		return fsError(t.targetLabel, "write "+key, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (t *dirTarget) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	f, err := os.Open(t.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("%s: %s: %w", t.targetLabel, key, ErrNotFound)
	}
	if err != nil {
		return nil, fsError(t.targetLabel, "read "+key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %s: %w", t.targetLabel, key, ErrNotFound)
	}
	return f, nil
}

func (t *dirTarget) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", t.targetLabel, err)
	}
	// Walk only the deepest directory the prefix names in full.
	start := t.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = t.path(prefix[:i])
	}
	var objs []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // no root yet, or removed while walking: nothing there
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(t.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		objs = append(objs, Object{Key: key, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("list %s: %w", t.targetLabel, ctx.Err())
		}
		return nil, fsError(t.targetLabel, "list its objects", err)
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

func (t *dirTarget) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	p := t.path(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsError(t.targetLabel, "delete "+key, err)
	}
	// Remove the directories the deletion emptied (a pruned backup's
	// folder), up to the root; a directory still holding objects stays.
	for dir := filepath.Dir(p); dir != t.root && strings.HasPrefix(dir, t.root+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if !removeEmptyDir(dir) {
			break
		}
	}
	return nil
}

// staleTemp is the age after which a temp file is taken for the leftover
// of a killed process (a Put in progress writes to it all the time).
const staleTemp = time.Hour

// removeEmptyDir removes dir when it holds nothing but stale temp files
// (which List does not show, so no Delete would ever reach them).
func removeEmptyDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !strings.HasPrefix(e.Name(), tmpPrefix) || !info.Mode().IsRegular() || time.Since(info.ModTime()) < staleTemp {
			return false
		}
	}
	for _, e := range ents {
		os.Remove(filepath.Join(dir, e.Name()))
	}
	return os.Remove(dir) == nil
}

// s3Target keeps objects in a bucket under a prefix.
type s3Target struct {
	targetLabel
	client   *s3.Client
	bucket   string
	prefix   string
	endpoint string
	tmpDir   string
	// putLimit and partSize: S3's limits; tests lower them.
	putLimit int64
	partSize int64
}

func openS3(label targetLabel, l location, o OpenOptions) (Target, error) {
	access, secret := l.access, l.secret
	if access == "" {
		access, secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if access == "" || secret == "" {
		return nil, &targetError{label: label, msg: "no S3 credentials: write them in the URL (s3://ACCESS:SECRET@bucket...) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}
	}
	cfg := aws.Config{
		Region:      l.region,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""),
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	client := s3.NewFromConfig(cfg, func(opts *s3.Options) {
		opts.BaseEndpoint = aws.String(l.endpoint)
		opts.UsePathStyle = l.pathStyle
		// Checksums only when the operation requires them: compatible servers vary.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &s3Target{targetLabel: label, client: client, bucket: l.bucket, prefix: l.prefix, endpoint: l.endpoint,
		tmpDir: o.TmpDir, putLimit: s3PutLimit, partSize: s3PartSize}, nil
}

// s3Error turns an S3 failure into a sentence naming the target.
func (t *s3Target) s3Error(what string, err error) error {
	var api smithy.APIError
	var send *smithyhttp.RequestSendError
	var resp *awshttp.ResponseError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	var msg string
	switch {
	case errors.As(err, &send):
		msg = fmt.Sprintf("cannot reach the S3 endpoint %s to %s; check the address and the network", t.endpoint, what)
		var op *net.OpError
		if errors.As(err, &op) {
			err = op
		}
	case code == "NoSuchBucket":
		msg = fmt.Sprintf("the bucket %q does not exist at %s; create it first", t.bucket, t.endpoint)
	case code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || status == http.StatusForbidden:
		msg = "access denied to " + what + "; check the access key and secret, and that they may read, write and delete in the bucket"
	case code == "QuotaExceeded" || code == "EntityTooLarge" || status == http.StatusInsufficientStorage:
		msg = "the target is full (over its quota) while trying to " + what
	default:
		msg = "cannot " + what
	}
	e := &targetError{label: t.targetLabel, msg: msg, err: err}
	if api != nil {
		e.detail = "S3 answered " + api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			e.detail += ": " + m
		}
	}
	return e
}

func (t *s3Target) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("store %q: %w", key, err)
	}
	// S3 wants the size before the body, and a retried request must be
	// able to send the body again: a regular file (the staged parts of a
	// backup) is sent as it is, anything else is spooled first.
	if f, off, size, ok := regularFile(r); ok {
		return t.putSized(ctx, key, f, off, size)
	}
	dir := t.tmpDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "kandidat-backup-upload-*")
	if err != nil {
		return fmt.Errorf("spool %s for upload: %w", key, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	src := &ctxReader{ctx: ctx, r: r}
	size, err := io.Copy(f, src)
	if err != nil {
		if src.err != nil {
			return sourceError(key, src.err)
		}
		return fmt.Errorf("spool %s for upload in %s: %w", key, dir, err)
	}
	return t.putSized(ctx, key, f, 0, size)
}

// regularFile reports whether r is a regular file, and the part of it
// from the current offset on.
func regularFile(r io.Reader) (f *os.File, off, size int64, ok bool) {
	f, ok = r.(*os.File)
	if !ok {
		return nil, 0, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, 0, 0, false
	}
	if off, err = f.Seek(0, io.SeekCurrent); err != nil || off > st.Size() {
		return nil, 0, 0, false
	}
	return f, off, st.Size() - off, true
}

// putSized uploads size bytes of f from off: one PutObject, or a
// multipart upload above S3's limit for one.
func (t *s3Target) putSized(ctx context.Context, key string, f io.ReaderAt, off, size int64) error {
	if err := ctx.Err(); err != nil {
		return sourceError(key, err)
	}
	if size > t.putLimit {
		return t.putMultipart(ctx, key, f, off, size)
	}
	_, err := t.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key), Body: io.NewSectionReader(f, off, size),
		ContentLength: aws.Int64(size), ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		if ctx.Err() != nil {
			return sourceError(key, ctx.Err())
		}
		return t.s3Error("write "+key, err)
	}
	return nil
}

// putMultipart uploads size bytes of f from base in parts; the object
// appears only when the upload completes, and a failed upload is aborted.
func (t *s3Target) putMultipart(ctx context.Context, key string, f io.ReaderAt, base, size int64) (err error) {
	partSize := max(t.partSize, (size+s3MaxParts-1)/s3MaxParts)
	up, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key), ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		if ctx.Err() != nil {
			return sourceError(key, ctx.Err())
		}
		return t.s3Error("write "+key, err)
	}
	defer func() {
		if err != nil {
			// Abort even when ctx is cancelled, so no parts are left billed.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			t.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key), UploadId: up.UploadId,
			})
		}
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+partSize {
		length := min(partSize, size-off)
		out, err := t.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, base+off, length), ContentLength: aws.Int64(length),
		})
		if err != nil {
			if ctx.Err() != nil {
				return sourceError(key, ctx.Err())
			}
			return t.s3Error(fmt.Sprintf("write part %d of %s", n, key), err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		if ctx.Err() != nil {
			return sourceError(key, ctx.Err())
		}
		return t.s3Error("complete the upload of "+key, err)
	}
	return nil
}

func (t *s3Target) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key)})
	if err != nil {
		var nsk *types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")) {
			return nil, fmt.Errorf("%s: %s: %w", t.targetLabel, key, ErrNotFound)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read %s: %w", key, ctx.Err())
		}
		return nil, t.s3Error("read "+key, err)
	}
	return out.Body, nil
}

func (t *s3Target) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", t.targetLabel, err)
	}
	var objs []Object
	p := s3.NewListObjectsV2Paginator(t.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(t.bucket), Prefix: aws.String(t.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("list %s: %w", t.targetLabel, ctx.Err())
			}
			return nil, t.s3Error("list its objects", err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), t.prefix)
			obj := Object{Key: key, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				obj.Modified = *o.LastModified
			}
			objs = append(objs, obj)
		}
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

func (t *s3Target) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	_, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.prefix + key)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("delete %s: %w", key, ctx.Err())
		}
		return t.s3Error("delete "+key, err)
	}
	return nil
}
