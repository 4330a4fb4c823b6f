package pitr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// objects keeps the sealed replica files by key ("ltx/<level>/<name>").
// Errors: a missing object is os.ErrNotExist.
type objects interface {
	// where names the replica without credentials.
	where() string
	// put stores r under key; a reader of key never sees a partial object.
	put(ctx context.Context, key string, r io.Reader) error
	// get reads length bytes (all when length <= 0) from offset on.
	get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// list returns every object whose key starts with prefix, by key.
	list(ctx context.Context, prefix string) ([]object, error)
	// remove deletes key; no error when it is absent.
	remove(ctx context.Context, key string) error
}

type object struct {
	key  string
	size int64
}

// openObjects connects the replica location loc: an absolute directory,
// file:///dir, or s3://[ACCESS:SECRET@]bucket[/prefix]?endpoint=URL
// [&region=R][&path-style=true][&insecure=true] (the syntax of a backup
// target). spoolDir holds S3 uploads while they are sealed.
func openObjects(loc, spoolDir string) (objects, error) {
	switch {
	case loc == "":
		return nil, errors.New("no point-in-time replica location")
	case strings.HasPrefix(loc, "s3://"):
		return openS3(loc, spoolDir)
	case strings.HasPrefix(loc, "file://"):
		u, err := url.Parse(loc)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.RawQuery != "" {
			return nil, errors.New("a file:// replica location is file:///absolute/path")
		}
		return openDir(u.Path)
	case strings.Contains(loc, "://"):
		return nil, errors.New("unknown kind of replica location: use an absolute directory path, file:///path or s3://bucket/prefix?endpoint=URL")
	default:
		return openDir(loc)
	}
}

// dirObjects keeps the replica in a local (or mounted) directory.
type dirObjects struct{ root string }

func openDir(p string) (*dirObjects, error) {
	if !filepath.IsAbs(p) {
		return nil, fmt.Errorf("the replica directory must be an absolute path, not %q", p)
	}
	return &dirObjects{root: filepath.Clean(p)}, nil
}

func (d *dirObjects) where() string { return d.root }

func (d *dirObjects) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

func (d *dirObjects) put(ctx context.Context, key string, r io.Reader) (err error) {
	dst := d.path(key)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), dst); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (d *dirObjects) get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	if length > 0 {
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, length), f}, nil
	}
	return f, nil
}

func (d *dirObjects) list(ctx context.Context, prefix string) ([]object, error) {
	dir, namePrefix := path.Split(prefix)
	entries, err := os.ReadDir(d.path(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []object
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), namePrefix) || strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted since the directory was read
		} else if err != nil {
			return nil, err
		}
		out = append(out, object{key: dir + e.Name(), size: fi.Size()})
	}
	return out, nil // os.ReadDir sorts by name
}

func (d *dirObjects) remove(ctx context.Context, key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// s3Objects keeps the replica in an S3-compatible bucket.
type s3Objects struct {
	client   *s3.Client
	bucket   string
	prefix   string
	location string // without credentials
	spoolDir string
}

var bucketRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$`)

// memorySpool is the largest sealed file uploaded from memory; larger
// ones are spooled to a temporary file (S3 wants the size up front).
const memorySpool = 8 << 20

func openS3(loc, spoolDir string) (*s3Objects, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, errors.New("the replica is not a valid s3:// URL (percent-encode special characters of the access key and secret)")
	}
	if !bucketRE.MatchString(u.Host) {
		return nil, errors.New("an s3:// replica URL needs a bucket name of 3 to 63 letters, digits, dots, dashes or underscores: s3://bucket/prefix?endpoint=URL")
	}
	o := &s3Objects{bucket: u.Host, spoolDir: spoolDir}
	if p := strings.Trim(u.Path, "/"); p != "" {
		o.prefix = p + "/"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("the query of the s3:// replica URL is not valid")
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "path-style", "insecure":
		default:
			return nil, fmt.Errorf("the s3:// replica URL has an unknown option %q (known: endpoint, region, path-style, insecure)", k)
		}
	}
	endpoint, region := q.Get("endpoint"), q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	flags := map[string]bool{}
	for _, k := range []string{"path-style", "insecure"} {
		if v := q.Get(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s must be true or false", k)
			}
			flags[k] = b
		}
	}
	ep, err := url.Parse(endpoint)
	if endpoint == "" {
		return nil, errors.New("an s3:// replica URL needs ?endpoint=URL, e.g. ?endpoint=https://s3.eu-north-1.amazonaws.com")
	} else if err != nil || (ep.Scheme != "https" && ep.Scheme != "http") || ep.Host == "" || ep.User != nil {
		return nil, errors.New("endpoint must be an http:// or https:// URL without credentials, e.g. https://s3.eu-north-1.amazonaws.com")
	}
	if ep.Scheme == "http" && !flags["insecure"] && !loopback(ep.Hostname()) {
		return nil, errors.New("endpoint uses plain http:// to another machine: use https://, or add insecure=true if the network is trusted")
	}
	access, secret := "", ""
	if u.User != nil {
		access = u.User.Username()
		secret, _ = u.User.Password()
	} else {
		access, secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if access == "" || secret == "" {
		return nil, errors.New("no S3 credentials for the replica: write them in the URL (s3://ACCESS:SECRET@bucket...) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	clean := *u
	clean.User = nil
	o.location = clean.String()
	// A server that accepts a request and never answers must not stall
	// replication for good: Litestream retries a failed upload.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 2 * time.Minute
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""), HTTPClient: &http.Client{Transport: tr}}
	o.client = s3.NewFromConfig(cfg, func(opts *s3.Options) {
		opts.BaseEndpoint = aws.String(endpoint)
		opts.UsePathStyle = flags["path-style"]
		// Checksums only when the operation requires them: compatible servers vary.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return o, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *s3Objects) where() string { return o.location }

func (o *s3Objects) put(ctx context.Context, key string, r io.Reader) error {
	// S3 wants the length first: keep small files in memory, spool big ones.
	var body io.ReadSeeker
	var buf bytes.Buffer
	size, err := io.CopyN(&buf, ctxReader{ctx, r}, memorySpool+1)
	switch {
	case err == io.EOF:
		body = bytes.NewReader(buf.Bytes())
	case err != nil:
		return err
	default:
		f, err := os.CreateTemp(o.spoolDir, ".pitr-upload-*")
		if err != nil {
			return fmt.Errorf("spool replica upload: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := f.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("spool replica upload: %w", err)
		}
		rest, err := io.Copy(f, ctxReader{ctx, r})
		if err != nil {
			return fmt.Errorf("spool replica upload: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		size += rest
		if size > multipartAbove {
			return o.putMultipart(ctx, key, f, size)
		}
		body = f
	}
	_, err = o.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), Body: body, ContentLength: aws.Int64(size),
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("S3 put: %w", err)
	}
	return nil
}

// S3 takes at most 5 GiB in one request: a bigger file (the snapshot of a
// database of several GiB) goes up in parts. Variables for the tests.
var (
	multipartAbove int64 = 4 << 30
	partSize       int64 = 64 << 20
)

// putMultipart uploads the size bytes of f in parts; a failed upload is
// aborted so that no parts are left behind.
func (o *s3Objects) putMultipart(ctx context.Context, key string, f *os.File, size int64) (err error) {
	up, err := o.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("S3 multipart upload: %w", err)
	}
	defer func() {
		if err != nil {
			o.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), UploadId: up.UploadId,
			})
		}
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+partSize {
		l := min(partSize, size-off)
		out, err := o.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, off, l), ContentLength: aws.Int64(l),
		})
		if err != nil {
			return fmt.Errorf("S3 upload part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = o.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("S3 complete multipart upload: %w", err)
	}
	return nil
}

func (o *s3Objects) get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key)}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := o.client.GetObject(ctx, in)
	if notFound(err) {
		return nil, fmt.Errorf("replica object %s: %w", key, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("S3 get: %w", err)
	}
	return out.Body, nil
}

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var re *smithyhttp.ResponseError
	return errors.As(err, &nsk) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound)
}

func (o *s3Objects) list(ctx context.Context, prefix string) ([]object, error) {
	var out []object
	p := s3.NewListObjectsV2Paginator(o.client, &s3.ListObjectsV2Input{Bucket: aws.String(o.bucket), Prefix: aws.String(o.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("S3 list: %w", err)
		}
		for _, c := range page.Contents {
			out = append(out, object{key: strings.TrimPrefix(aws.ToString(c.Key), o.prefix), size: aws.ToInt64(c.Size)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, nil
}

func (o *s3Objects) remove(ctx context.Context, key string) error {
	_, err := o.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key)})
	if err != nil && !notFound(err) {
		return fmt.Errorf("S3 delete: %w", err)
	}
	return nil
}
