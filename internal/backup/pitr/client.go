package pitr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
)

// client is the litestream.ReplicaClient of a sealed replica: it seals
// every LTX file it writes and opens every one it reads. Litestream's own
// file and S3 clients cannot be wrapped for this: they read the LTX header
// of what they store (for its timestamp), so they must be handed plaintext.
// This client keeps the timestamp in the object's name instead:
//
//	ltx/<level>/<min TXID>-<max TXID>.<UTC time, ms>.sealed
//
// and computes the plaintext size from the stored size, so one listing
// answers everything Litestream asks of a level.
type client struct {
	obj    objects
	seal   *sealer
	logger *slog.Logger

	mu   sync.Mutex
	keys map[fileRef]string // object key of each known file
	// failure is the first authentication failure met while reading: a
	// restore that fails reports it rather than Litestream's retry message.
	failure error
}

var _ litestream.ReplicaClient = (*client)(nil)

type fileRef struct {
	level            int
	minTXID, maxTXID ltx.TXID
}

const timeLayout = "20060102T150405.000Z"

func newClient(obj objects, s *sealer, logger *slog.Logger) *client {
	return &client{obj: obj, seal: s, logger: logger, keys: map[fileRef]string{}}
}

func levelPrefix(level int) string { return "ltx/" + strconv.Itoa(level) + "/" }

func rangePrefix(ref fileRef) string {
	return levelPrefix(ref.level) + fmt.Sprintf("%016x-%016x.", uint64(ref.minTXID), uint64(ref.maxTXID))
}

func objectKey(id objectID) string {
	ref := fileRef{id.level, ltx.TXID(id.minTXID), ltx.TXID(id.maxTXID)}
	return rangePrefix(ref) + id.created.UTC().Format(timeLayout) + ".sealed"
}

// parseKey reads an object key of level; false for anything else (temp files).
func parseKey(level int, key string) (objectID, bool) {
	name, ok := strings.CutPrefix(key, levelPrefix(level))
	if !ok {
		return objectID{}, false
	}
	name, ok = strings.CutSuffix(name, ".sealed")
	if !ok {
		return objectID{}, false
	}
	txids, ts, ok := strings.Cut(name, ".")
	if !ok {
		return objectID{}, false
	}
	lo, hi, ok := strings.Cut(txids, "-")
	if !ok || len(lo) != 16 || len(hi) != 16 {
		return objectID{}, false
	}
	minTXID, err1 := strconv.ParseUint(lo, 16, 64)
	maxTXID, err2 := strconv.ParseUint(hi, 16, 64)
	created, err3 := time.Parse(timeLayout, ts)
	if err1 != nil || err2 != nil || err3 != nil {
		return objectID{}, false
	}
	return objectID{level: level, minTXID: minTXID, maxTXID: maxTXID, created: created.UTC()}, true
}

func (c *client) Type() string { return "kandidat-sealed" }

func (c *client) Init(ctx context.Context) error { return nil }

func (c *client) SetLogger(logger *slog.Logger) { c.logger = logger }

func (c *client) noteFailure(err error) {
	if errors.Is(err, ErrTampered) || errors.Is(err, ErrWrongKey) {
		c.mu.Lock()
		if c.failure == nil {
			c.failure = err
		}
		c.mu.Unlock()
	}
}

func (c *client) firstFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure
}

// files lists a level: one entry per TXID range (the newest object when a
// range was written twice), by range.
func (c *client) files(ctx context.Context, level int) ([]objectID, map[fileRef]int64, error) {
	objs, err := c.obj.list(ctx, levelPrefix(level))
	if err != nil {
		return nil, nil, err
	}
	newest := map[fileRef]objectID{}
	sizes := map[fileRef]int64{}
	var order []fileRef
	for _, o := range objs {
		id, ok := parseKey(level, o.key)
		if !ok {
			continue
		}
		ref := fileRef{level, ltx.TXID(id.minTXID), ltx.TXID(id.maxTXID)}
		prev, seen := newest[ref]
		if !seen {
			order = append(order, ref)
		}
		if !seen || id.created.After(prev.created) {
			newest[ref] = id
			sizes[ref] = o.size
		}
	}
	ids := make([]objectID, 0, len(order))
	c.mu.Lock()
	for _, ref := range order {
		ids = append(ids, newest[ref])
		c.keys[ref] = objectKey(newest[ref])
	}
	c.mu.Unlock()
	return ids, sizes, nil
}

// LTXFiles lists the files of a level from seek on. Timestamps come from
// the object names, so useMetadata changes nothing.
func (c *client) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	ids, sizes, err := c.files(ctx, level)
	if err != nil {
		return nil, err
	}
	infos := make([]*ltx.FileInfo, 0, len(ids))
	for _, id := range ids {
		if ltx.TXID(id.minTXID) < seek {
			continue
		}
		ref := fileRef{level, ltx.TXID(id.minTXID), ltx.TXID(id.maxTXID)}
		size, ok := plainSize(sizes[ref])
		if !ok {
			// A size no sealed file has: the file was cut or padded.
			err := fmt.Errorf("%w: %s has an impossible size", ErrTampered, id)
			c.noteFailure(err)
			c.logger.Error("point-in-time replica file damaged", "level", level, "min_txid", id.minTXID, "max_txid", id.maxTXID)
		}
		infos = append(infos, &ltx.FileInfo{Level: level, MinTXID: ref.minTXID, MaxTXID: ref.maxTXID, Size: size, CreatedAt: id.created})
	}
	return ltx.NewFileInfoSliceIterator(infos), nil
}

// key returns the object key of a file, listing its range when unknown.
func (c *client) key(ctx context.Context, ref fileRef) (string, error) {
	c.mu.Lock()
	k, ok := c.keys[ref]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	objs, err := c.obj.list(ctx, rangePrefix(ref))
	if err != nil {
		return "", err
	}
	var best objectID
	for _, o := range objs {
		if id, ok := parseKey(ref.level, o.key); ok && (best.created.IsZero() || id.created.After(best.created)) {
			best = id
		}
	}
	if best.created.IsZero() {
		return "", fmt.Errorf("replica file level %d, transactions %d-%d: %w", ref.level, ref.minTXID, ref.maxTXID, os.ErrNotExist)
	}
	k = objectKey(best)
	c.mu.Lock()
	c.keys[ref] = k
	c.mu.Unlock()
	return k, nil
}

// OpenLTXFile returns the plaintext of a file from offset on (size bytes
// when size > 0). Only the chunks holding that range are fetched (plus the
// header); every byte returned has been authenticated.
func (c *client) OpenLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	ref := fileRef{level, minTXID, maxTXID}
	key, err := c.key(ctx, ref)
	if err != nil {
		return nil, err
	}
	id, _ := parseKey(level, key)
	first := offset / chunkSize
	bodyAt := int64(headerSize) + first*sealedSize
	length := int64(0)
	if size > 0 {
		chunks := (offset%chunkSize + size + chunkSize - 1) / chunkSize
		// One byte more than the chunks needed: the reader looks past a
		// chunk to know whether it is the last.
		length = chunks*sealedSize + 1
	}
	var header []byte
	var body io.ReadCloser
	if first == 0 {
		if length > 0 {
			length += int64(headerSize)
		}
		rc, err := c.obj.get(ctx, key, 0, length)
		if err != nil {
			return nil, err
		}
		header = make([]byte, headerSize)
		if _, err := io.ReadFull(rc, header); err != nil {
			rc.Close()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = fmt.Errorf("%w: %s is shorter than its header", ErrTampered, id)
				c.noteFailure(err)
			}
			return nil, err
		}
		body = rc
	} else {
		hr, err := c.obj.get(ctx, key, 0, int64(headerSize))
		if err != nil {
			return nil, err
		}
		header, err = io.ReadAll(hr)
		hr.Close()
		if err != nil {
			return nil, err
		}
		if body, err = c.obj.get(ctx, key, bodyAt, length); err != nil {
			return nil, err
		}
	}
	r, err := c.seal.openAt(id, header, body, offset, size)
	if err != nil {
		body.Close()
		c.noteFailure(err)
		return nil, fmt.Errorf("replica file %s: %w", id, err)
	}
	return &openedFile{r: r, c: body, client: c}, nil
}

type openedFile struct {
	r      io.Reader
	c      io.Closer
	client *client
}

func (f *openedFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		f.client.noteFailure(err)
	}
	return n, err
}

func (f *openedFile) Close() error { return f.c.Close() }

// WriteLTXFile seals r and stores it. The LTX header's timestamp (when the
// transactions were committed) becomes part of the object's name.
func (c *client) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	hdr, rd, err := ltx.PeekHeader(r)
	if err != nil {
		return nil, fmt.Errorf("read LTX header: %w", err)
	}
	id := objectID{level: level, minTXID: uint64(minTXID), maxTXID: uint64(maxTXID), created: time.UnixMilli(hdr.Timestamp).UTC()}
	sealed, n, err := c.seal.seal(id, rd)
	if err != nil {
		return nil, err
	}
	key := objectKey(id)
	if err := c.obj.put(ctx, key, sealed); err != nil {
		return nil, fmt.Errorf("store replica file %s: %w", id, err)
	}
	// A range written again (a forced snapshot) replaces the older object.
	ref := fileRef{level, minTXID, maxTXID}
	others, err := c.obj.list(ctx, rangePrefix(ref))
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.key != key {
			if err := c.obj.remove(ctx, o.key); err != nil {
				return nil, err
			}
		}
	}
	c.mu.Lock()
	c.keys[ref] = key
	c.mu.Unlock()
	return &ltx.FileInfo{Level: level, MinTXID: minTXID, MaxTXID: maxTXID, Size: n(), CreatedAt: id.created}, nil
}

// DeleteLTXFiles removes files (every object of each range).
func (c *client) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	for _, info := range a {
		ref := fileRef{info.Level, info.MinTXID, info.MaxTXID}
		objs, err := c.obj.list(ctx, rangePrefix(ref))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.obj.remove(ctx, o.key); err != nil {
				return err
			}
		}
		c.mu.Lock()
		delete(c.keys, ref)
		c.mu.Unlock()
	}
	return nil
}

// DeleteAll removes every file of the replica.
func (c *client) DeleteAll(ctx context.Context) error {
	for level := 0; level <= litestream.SnapshotLevel; level++ {
		objs, err := c.obj.list(ctx, levelPrefix(level))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.obj.remove(ctx, o.key); err != nil {
				return err
			}
		}
	}
	c.mu.Lock()
	c.keys = map[fileRef]string{}
	c.mu.Unlock()
	return nil
}

// checkKey reads the header of one replica file and says whether the
// replica holds any file; ErrWrongKey when it was sealed with another key.
func (c *client) checkKey(ctx context.Context) (bool, error) {
	for level := litestream.SnapshotLevel; level >= 0; level-- {
		objs, err := c.obj.list(ctx, levelPrefix(level))
		if err != nil {
			return false, err
		}
		for _, o := range objs {
			if _, ok := parseKey(level, o.key); !ok {
				continue
			}
			rc, err := c.obj.get(ctx, o.key, 0, int64(headerSize))
			if errors.Is(err, os.ErrNotExist) {
				continue // removed by retention meanwhile
			} else if err != nil {
				return false, err
			}
			h, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return false, err
			}
			return true, c.seal.checkHeader(h)
		}
	}
	return false, nil
}

// window returns the oldest and newest times the replica restores: a
// restore needs a time after from (a snapshot, or the file that starts the
// history, made at from) and gives the newest state from to on.
func (c *client) window(ctx context.Context) (from, to time.Time, err error) {
	for level := 0; level <= litestream.SnapshotLevel; level++ {
		ids, _, err := c.files(ctx, level)
		if err != nil {
			return from, to, err
		}
		for _, id := range ids {
			if id.created.After(to) {
				to = id.created
			}
			if (level == litestream.SnapshotLevel || id.minTXID == 1) && (from.IsZero() || id.created.Before(from)) {
				from = id.created
			}
		}
	}
	if from.IsZero() {
		return from, to, ErrEmpty
	}
	return from, to, nil
}
