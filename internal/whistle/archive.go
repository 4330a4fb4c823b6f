package whistle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
)

// ErrNoArchive: the company has no archive recipient, or the case no bundle.
var ErrNoArchive = fault.New(fault.ErrNotFound, "no archive", "whistle.error.no_archive")

// ArchiveInfo describes a case's archive bundle.
type ArchiveInfo struct {
	ReportID string `json:"case"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	MadeOn   string `json:"made_on"`
}

// bundleCase is case.json of a bundle.
type bundleCase struct {
	Format         string      `json:"format"`
	Company        string      `json:"company"`
	Case           string      `json:"case"`
	Channel        string      `json:"channel"`
	Status         string      `json:"status"`
	Outcome        string      `json:"outcome"`
	ReceivedOn     string      `json:"received_on"`
	AcknowledgedOn string      `json:"acknowledged_on,omitempty"`
	FeedbackOn     string      `json:"feedback_on,omitempty"`
	ClosedOn       string      `json:"closed_on,omitempty"`
	Deadlines      Deadlines   `json:"deadlines"`
	Entries        []EntryView `json:"entries"`
}

// Archive writes the case's bundle for the archive system: a zip of
// case.json (state, entries and notes), files/ (the attachments) and
// manifest.json (the SHA-256 of each part), with manifest.sig, the
// manifest's Ed25519 signature by the installation's archive key
// (ArchiveSigningKey); the whole encrypted with age to the company's
// archive recipient, so that only the archive system reads it. Only a
// closed case is archived; a second call replaces the bundle.
func (s *Service) Archive(ctx context.Context, h *Handler, reportID string) error {
	a := h.Actor
	var recipient string
	var bc bundleCase
	var files []*File
	var attIDs []string
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		st, err := readSettings(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		if st.ArchiveRecipient == "" {
			return ErrNoArchive
		}
		recipient = st.ArchiveRecipient
		info, key, _, err := s.caseKey(ctx, tx, h, reportID)
		if err != nil {
			return err
		}
		if info.Status != Closed {
			return ErrState
		}
		entries, err := s.openEntries(ctx, tx, a.TenantID, reportID, key, []string{KindReport, KindMessage, KindNote, KindRedaction})
		if err != nil {
			return err
		}
		bc = bundleCase{Format: "kandidat-case-archive/1", Company: a.TenantID, Case: reportID, Channel: info.ChannelName, Status: info.Status,
			Outcome: info.Outcome, ReceivedOn: info.ReceivedOn, AcknowledgedOn: info.AcknowledgedOn, FeedbackOn: info.FeedbackOn,
			ClosedOn: info.ClosedOn, Deadlines: info.Deadlines, Entries: entries}
		for _, e := range entries {
			for _, at := range e.Attachments {
				attIDs = append(attIDs, at.ID)
			}
		}
		// Keys are opened here; the files are read after the transaction.
		h = &Handler{Actor: a, key: key}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range attIDs {
		f, err := s.openAttachment(ctx, a.TenantID, reportID, id, h.key)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	bundle, err := s.bundle(bc, attIDs, files, recipient)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bundle)
	// Each bundle is its own object: the row names it, so a reader never
	// pairs one bundle's key with another's bytes, and a failed write
	// leaves the previous bundle whole.
	objectID := "whistle-archive-" + randomID()
	obj, err := s.o.Blobs.Put(ctx, a.TenantID, objectID, bytes.NewReader(bundle), 0)
	if err != nil {
		return err
	}
	var previous string
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		// Only a case still there and closed is archived; taking its row
		// first orders this against the retention sweep, which takes it too.
		res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET version = version + 1 WHERE tenant_id = $1 AND id = $2 AND status = 'closed'`, a.TenantID, reportID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrState
		}
		err = tx.QueryRowContext(ctx, `SELECT object_id FROM whistle_archives WHERE tenant_id = $1 AND report_id = $2`, a.TenantID, reportID).Scan(&previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_archives (tenant_id, report_id, object_id, blob_key, size, sha256, made_on, made_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (tenant_id, report_id) DO UPDATE SET object_id = excluded.object_id, blob_key = excluded.blob_key,
			size = excluded.size, sha256 = excluded.sha256, made_on = excluded.made_on, made_by = excluded.made_by`,
			a.TenantID, reportID, objectID, obj.Key, int64(len(bundle)), hex.EncodeToString(sum[:]), Day(s.now()), a.UserID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseArchived, reportID, nil)
	})
	if err != nil {
		if derr := s.o.Blobs.Delete(context.WithoutCancel(ctx), a.TenantID, objectID); derr != nil {
			s.o.Logger.Error("remove archive bundle", "err", derr)
		}
		return err
	}
	if previous != "" {
		if err := s.o.Blobs.Delete(ctx, a.TenantID, previous); err != nil {
			s.o.Logger.Error("remove previous archive bundle", "err", err)
		}
	}
	return nil
}

func (s *Service) bundle(bc bundleCase, ids []string, files []*File, recipient string) ([]byte, error) {
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	manifest := map[string]string{}
	put := func(name string, b []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		manifest[name] = hex.EncodeToString(sum[:])
		return nil
	}
	cj, err := json.MarshalIndent(bc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := put("case.json", cj); err != nil {
		return nil, err
	}
	for i, f := range files {
		if err := put(fmt.Sprintf("files/%s-%s", ids[i], f.Name), f.Data); err != nil {
			return nil, err
		}
	}
	mj, err := json.MarshalIndent(map[string]any{"format": bc.Format, "case": bc.Case, "company": bc.Company, "sha256": manifest}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := put("manifest.json", mj); err != nil {
		return nil, err
	}
	sig := ed25519.Sign(s.sign, mj)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.sig", Method: zip.Store, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, base64.StdEncoding.EncodeToString(sig)+"\n"); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		return nil, fault.Field("archive_recipient", "whistle.error.recipient")
	}
	var out bytes.Buffer
	ew, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, err
	}
	if _, err := ew.Write(zbuf.Bytes()); err != nil {
		return nil, err
	}
	if err := ew.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Archives lists the company's archive bundles, newest case first.
func (s *Service) Archives(ctx context.Context, a access.Actor) ([]ArchiveInfo, error) {
	if err := mayHandle(a); err != nil {
		return nil, err
	}
	var out []ArchiveInfo
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT report_id, size, sha256, made_on FROM whistle_archives WHERE tenant_id = $1 ORDER BY made_on DESC, report_id`, a.TenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ai ArchiveInfo
			if err := rows.Scan(&ai.ReportID, &ai.Size, &ai.SHA256, &ai.MadeOn); err != nil {
				return err
			}
			out = append(out, ai)
		}
		return rows.Err()
	})
	return out, err
}

// ArchiveBundle returns a closed case's bundle (age-encrypted to the
// archive recipient; the server cannot read it) for the archive system,
// through the API or the command line. The export is recorded.
func (s *Service) ArchiveBundle(ctx context.Context, a access.Actor, reportID string) (*ArchiveInfo, io.ReadCloser, error) {
	if err := mayHandle(a); err != nil {
		return nil, nil, err
	}
	var ai ArchiveInfo
	var key []byte
	var object string
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT report_id, object_id, size, sha256, made_on, blob_key FROM whistle_archives WHERE tenant_id = $1 AND report_id = $2`,
			a.TenantID, reportID).Scan(&ai.ReportID, &object, &ai.Size, &ai.SHA256, &ai.MadeOn, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoArchive
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.CaseArchiveExported, reportID, nil)
	})
	if err != nil {
		return nil, nil, err
	}
	r, err := s.o.Blobs.Open(ctx, a.TenantID, object, key)
	if err != nil {
		return nil, nil, err
	}
	return &ai, r, nil
}
