package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Options reach an S3-compatible bucket.
type S3Options struct {
	// Endpoint is the service's base URL, e.g. https://s3.eu-north-1.amazonaws.com
	// or the address of a compatible server.
	Endpoint string
	Region   string
	Bucket   string
	// Prefix is prepended to every object name (e.g. "kandidat/").
	Prefix    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket in the path (most compatible servers want it).
	PathStyle bool
	// HTTPClient is the client to use (nil for the default).
	HTTPClient *http.Client
}

// S3 is a backend in an S3-compatible bucket. Objects are already
// encrypted when they reach it; the bucket's own encryption is a bonus.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
}

// NewS3 returns a backend for the bucket.
func NewS3(o S3Options) (*S3, error) {
	if o.Endpoint == "" || o.Bucket == "" || o.AccessKey == "" || o.SecretKey == "" {
		return nil, errors.New("S3 storage needs an endpoint, a bucket and credentials")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	cfg := aws.Config{
		Region:      o.Region,
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	client := s3.NewFromConfig(cfg, func(opts *s3.Options) {
		opts.BaseEndpoint = aws.String(o.Endpoint)
		opts.UsePathStyle = o.PathStyle
		// Checksums only when the operation requires them: compatible servers vary.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &S3{client: client, bucket: o.Bucket, prefix: o.Prefix}, nil
}

// Put uploads the object.
func (b *S3) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.bucket), Key: aws.String(b.prefix + name), Body: r, ContentLength: aws.Int64(size),
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("S3 put: %w", err)
	}
	return nil
}

// Get downloads the object as a stream.
func (b *S3) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.prefix + name)})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("S3 get: %w", err)
	}
	return out.Body, nil
}

// Delete removes the object.
func (b *S3) Delete(ctx context.Context, name string) error {
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.prefix + name)}); err != nil {
		return fmt.Errorf("S3 delete: %w", err)
	}
	return nil
}

// Walk lists every object under the prefix, a page at a time.
func (b *S3) Walk(ctx context.Context, fn func(name string, size int64) error) error {
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("S3 list: %w", err)
		}
		for _, o := range page.Contents {
			n := strings.TrimPrefix(aws.ToString(o.Key), b.prefix)
			tenant, object, ok := strings.Cut(n, "/")
			if !ok || !safeName(tenant) || !safeName(object) {
				continue // not an object of the store
			}
			if err := fn(n, aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}
