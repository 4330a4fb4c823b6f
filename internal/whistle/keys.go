package whistle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// Handler is a case handler whose key is unlocked for this request.
type Handler struct {
	Actor access.Actor
	key   *vault.Identity
}

// KeyStatus says where a handler stands with their case key.
type KeyStatus struct {
	Enrolled bool
	// Escrowed: the key is sealed to the company's current escrow.
	Escrowed bool
	// EscrowSet: the company has an escrow.
	EscrowSet bool
	Public    string
}

// Settings are the company's whistleblowing settings.
type Settings struct {
	EscrowID        string
	EscrowPublic    string
	EscrowThreshold int
	EscrowShares    int
	// ArchiveRecipient is the age public key closed cases are archived to ("" for none).
	ArchiveRecipient string
}

type handlerKeyRow struct {
	key      vault.HandlerKey
	escrowID string
	escrow   []byte
}

func readHandlerKey(ctx context.Context, tx *sql.Tx, tenantID, userID string) (*handlerKeyRow, error) {
	var r handlerKeyRow
	err := tx.QueryRowContext(ctx, `SELECT public_key, password_salt, sealed_by_password, sealed_by_recovery, escrow_id, sealed_by_escrow
		FROM whistle_handler_keys WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID).
		Scan(&r.key.Public, &r.key.PasswordSalt, &r.key.SealedByPassword, &r.key.SealedByRecovery, &r.escrowID, &r.escrow)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("handler key: %w", err)
	}
	return &r, nil
}

func readSettings(ctx context.Context, tx *sql.Tx, tenantID string) (Settings, error) {
	var st Settings
	err := tx.QueryRowContext(ctx, `SELECT escrow_id, escrow_public_key, escrow_threshold, escrow_shares, archive_recipient
		FROM whistle_settings WHERE tenant_id = $1`, tenantID).Scan(&st.EscrowID, &st.EscrowPublic, &st.EscrowThreshold, &st.EscrowShares, &st.ArchiveRecipient)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{}, nil
	}
	return st, err
}

// Settings returns the company's settings.
func (s *Service) Settings(ctx context.Context, a access.Actor) (Settings, error) {
	if err := mayConfigure(a); err != nil {
		return Settings{}, err
	}
	var st Settings
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		st, err = readSettings(ctx, tx, a.TenantID)
		return err
	})
	return st, err
}

// SetArchiveRecipient sets (or with "" clears) the age public key closed
// cases are archived to.
func (s *Service) SetArchiveRecipient(ctx context.Context, a access.Actor, recipient string) error {
	if err := mayConfigure(a); err != nil {
		return err
	}
	if recipient != "" {
		if err := vault.CheckRecipient(recipient); err != nil {
			return fault.Field("archive_recipient", "whistle.error.recipient")
		}
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_settings (tenant_id, archive_recipient, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET archive_recipient = excluded.archive_recipient, updated_at = excluded.updated_at`,
			a.TenantID, recipient, db.Now()); err != nil {
			return fmt.Errorf("archive recipient: %w", err)
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CaseSettingsChanged, Actor: audit.ActorOf(a),
			Details: map[string]string{"setting": "archive_recipient"}})
	})
}

// KeyStatus returns a's case key status.
func (s *Service) KeyStatus(ctx context.Context, a access.Actor) (KeyStatus, error) {
	if err := mayHandle(a); err != nil {
		return KeyStatus{}, err
	}
	var ks KeyStatus
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		st, err := readSettings(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		ks.EscrowSet = st.EscrowID != ""
		r, err := readHandlerKey(ctx, tx, a.TenantID, a.UserID)
		if errors.Is(err, ErrNoKey) {
			return nil
		}
		if err != nil {
			return err
		}
		ks.Enrolled, ks.Public = true, r.key.Public
		ks.Escrowed = st.EscrowID != "" && r.escrowID == st.EscrowID
		return nil
	})
	return ks, err
}

// Enrol makes a's case key pair, sealed under password (which the caller
// has checked is a's password) and under the recovery key it returns, to
// be printed once. With replace, an existing key is replaced: the cases
// sealed to the old key must be shared again by another handler (or the
// handler recovers the old key instead, which Enrol does not do).
func (s *Service) Enrol(ctx context.Context, a access.Actor, password string, replace bool) (recovery string, err error) {
	if err := mayHandle(a); err != nil {
		return "", err
	}
	hk, ident, recovery, err := vault.NewHandlerKey(ctx, a.TenantID, a.UserID, password)
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		now := db.Now()
		st, err := readSettings(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		var escrowed []byte
		if st.EscrowID != "" {
			if escrowed, err = vault.SealIdentity(st.EscrowPublic, escrowBinding(a.TenantID, st.EscrowID, a.UserID), ident); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO whistle_handler_keys (tenant_id, user_id, public_key, password_salt, sealed_by_password,
			sealed_by_recovery, escrow_id, sealed_by_escrow, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (tenant_id, user_id) DO NOTHING`,
			a.TenantID, a.UserID, hk.Public, hk.PasswordSalt, hk.SealedByPassword, hk.SealedByRecovery, escrowIDIf(escrowed, st.EscrowID), escrowed, now)
		if err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if !replace {
				return fault.New(fault.ErrConflict, "already enrolled", "whistle.error.enrolled")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE whistle_handler_keys SET public_key = $3, password_salt = $4, sealed_by_password = $5,
				sealed_by_recovery = $6, escrow_id = $7, sealed_by_escrow = $8, updated_at = $9 WHERE tenant_id = $1 AND user_id = $2`,
				a.TenantID, a.UserID, hk.Public, hk.PasswordSalt, hk.SealedByPassword, hk.SealedByRecovery, escrowIDIf(escrowed, st.EscrowID), escrowed, now); err != nil {
				return fmt.Errorf("replace key: %w", err)
			}
			// Copies sealed to the old key open no more.
			if _, err := tx.ExecContext(ctx, `UPDATE whistle_case_handlers SET sealed = NULL WHERE tenant_id = $1 AND user_id = $2`, a.TenantID, a.UserID); err != nil {
				return err
			}
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CaseKeyEnrolled, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: a.UserID}}, Details: map[string]string{"replaced": fmt.Sprint(replace)}})
	})
	if err != nil {
		return "", err
	}
	return recovery, nil
}

func escrowIDIf(sealed []byte, escrowID string) string {
	if sealed == nil {
		return ""
	}
	return escrowID
}

func escrowBinding(tenantID, escrowID, userID string) vault.Binding {
	return vault.Binding{Company: tenantID, Report: "", Purpose: "handler-escrow:" + escrowID, Item: userID}
}

func handlerSessionBinding(tenantID, userID, session string) vault.Binding {
	return vault.Binding{Company: tenantID, Purpose: "handler-session", Item: userID + "/" + session}
}

// Unlock opens a's case key with their password and returns the envelope
// the web layer keeps in a cookie of the session session (any stable
// secret-derived value of the signed-in session, e.g. its id's hash), so
// that the envelope opens only with that session.
func (s *Service) Unlock(ctx context.Context, a access.Actor, session, password string) (string, error) {
	if err := mayHandle(a); err != nil {
		return "", err
	}
	var r *handlerKeyRow
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		r, err = readHandlerKey(ctx, tx, a.TenantID, a.UserID)
		return err
	})
	if err != nil {
		return "", err
	}
	ident, err := r.key.UnlockWithPassword(ctx, a.TenantID, a.UserID, password)
	if errors.Is(err, vault.ErrOpen) {
		s.recordUnlock(ctx, a, "password", false)
		return "", ErrWrongPassword
	}
	if err != nil {
		return "", err
	}
	if err := s.escrowIfDue(ctx, a, r, ident); err != nil {
		return "", err
	}
	s.recordUnlock(ctx, a, "password", true)
	return s.envelope(a, session, ident)
}

func (s *Service) recordUnlock(ctx context.Context, a access.Actor, via string, ok bool) {
	action := audit.CaseKeyUnlocked
	if !ok {
		action = audit.CaseKeyUnlockFailed
	}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: action, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: a.UserID}}, Details: map[string]string{"via": via}})
	})
	if err != nil {
		s.o.Logger.Error("record case key unlock", "err", err)
	}
}

func (s *Service) envelope(a access.Actor, session string, ident *vault.Identity) (string, error) {
	return vault.SealSession(s.sess, handlerSessionBinding(a.TenantID, a.UserID, session), []byte(ident.String()), s.now().Add(HandlerSession))
}

// escrowIfDue seals the handler's key to the company's current escrow when
// it is not yet.
func (s *Service) escrowIfDue(ctx context.Context, a access.Actor, r *handlerKeyRow, ident *vault.Identity) error {
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		st, err := readSettings(ctx, tx, a.TenantID)
		if err != nil || st.EscrowID == "" || st.EscrowID == r.escrowID {
			return err
		}
		sealed, err := vault.SealIdentity(st.EscrowPublic, escrowBinding(a.TenantID, st.EscrowID, a.UserID), ident)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE whistle_handler_keys SET escrow_id = $3, sealed_by_escrow = $4 WHERE tenant_id = $1 AND user_id = $2 AND public_key = $5`,
			a.TenantID, a.UserID, st.EscrowID, sealed, r.key.Public)
		return err
	})
}

// Handler opens the envelope of a's session: the handler with their key
// unlocked, and the envelope renewed for another HandlerSession.
func (s *Service) Handler(ctx context.Context, a access.Actor, session, envelope string) (*Handler, string, error) {
	if err := mayHandle(a); err != nil {
		return nil, "", err
	}
	if envelope == "" {
		return nil, "", ErrLocked
	}
	b, err := vault.OpenSession(s.sess, handlerSessionBinding(a.TenantID, a.UserID, session), envelope, s.now())
	if err != nil {
		return nil, "", ErrLocked
	}
	ident, err := vault.ParseIdentity(string(b))
	if err != nil {
		return nil, "", ErrLocked
	}
	// The key must still be the handler's (not replaced meanwhile).
	var pub string
	err = s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT public_key FROM whistle_handler_keys WHERE tenant_id = $1 AND user_id = $2`, a.TenantID, a.UserID).Scan(&pub)
	})
	if errors.Is(err, sql.ErrNoRows) || err == nil && pub != ident.Recipient() {
		return nil, "", ErrLocked
	}
	if err != nil {
		return nil, "", err
	}
	renewed, err := s.envelope(a, session, ident)
	if err != nil {
		return nil, "", err
	}
	return &Handler{Actor: a, key: ident}, renewed, nil
}

// Recover opens a's key with their recovery key and seals it again under
// password (their current one, checked by the caller): the way back after
// a password reset. It returns the session envelope.
func (s *Service) Recover(ctx context.Context, a access.Actor, session, recovery, password string) (string, error) {
	if err := mayHandle(a); err != nil {
		return "", err
	}
	var r *handlerKeyRow
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		r, err = readHandlerKey(ctx, tx, a.TenantID, a.UserID)
		return err
	})
	if err != nil {
		return "", err
	}
	ident, err := r.key.UnlockWithRecovery(a.TenantID, a.UserID, recovery)
	if err != nil {
		s.recordUnlock(ctx, a, "recovery", false)
		return "", ErrWrongPassword
	}
	if err := s.resealPassword(ctx, a, r, ident, password, "recovery"); err != nil {
		return "", err
	}
	if err := s.escrowIfDue(ctx, a, r, ident); err != nil {
		return "", err
	}
	return s.envelope(a, session, ident)
}

func (s *Service) resealPassword(ctx context.Context, a access.Actor, r *handlerKeyRow, ident *vault.Identity, password, via string) error {
	k := r.key
	if err := k.ResealPassword(ctx, a.TenantID, a.UserID, ident, password); err != nil {
		return err
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE whistle_handler_keys SET password_salt = $3, sealed_by_password = $4, updated_at = $5
			WHERE tenant_id = $1 AND user_id = $2 AND public_key = $6`, a.TenantID, a.UserID, k.PasswordSalt, k.SealedByPassword, db.Now(), k.Public)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStale
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CaseKeyRecovered, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: a.UserID}}, Details: map[string]string{"via": via}})
	})
}

// PasswordChanged is account's password hook: before the change's
// transaction it opens the handler's key with the current password and
// seals it under the next (two Argon2id derivations, holding no database
// lock); inside the transaction it writes the new seal, conditional on the
// key and its seal being still those it read. A key the current password
// does not open (sealed under an older one) is left as it is; its owner
// recovers it with the recovery key.
func (s *Service) PasswordChanged(ctx context.Context, tenantID, userID, current, next string) (func(context.Context, *sql.Tx) error, error) {
	var r *handlerKeyRow
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		r, err = readHandlerKey(ctx, tx, tenantID, userID)
		return err
	})
	if errors.Is(err, ErrNoKey) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ident, err := r.key.UnlockWithPassword(ctx, tenantID, userID, current)
	if err != nil {
		return nil, nil
	}
	oldSalt := r.key.PasswordSalt
	k := r.key
	if err := k.ResealPassword(ctx, tenantID, userID, ident, next); err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE whistle_handler_keys SET password_salt = $3, sealed_by_password = $4, updated_at = $5
			WHERE tenant_id = $1 AND user_id = $2 AND public_key = $6 AND password_salt = $7`,
			tenantID, userID, k.PasswordSalt, k.SealedByPassword, db.Now(), k.Public, oldSalt)
		return err
	}, nil
}

// NewRecoveryKey replaces h's recovery key (the old one stops working) and
// returns the new one, to be printed once.
func (s *Service) NewRecoveryKey(ctx context.Context, h *Handler) (string, error) {
	a := h.Actor
	var rec string
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		r, err := readHandlerKey(ctx, tx, a.TenantID, a.UserID)
		if err != nil {
			return err
		}
		k := r.key
		if rec, err = vault.NewRecoveryKey(a.TenantID, a.UserID, h.key, &k); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE whistle_handler_keys SET sealed_by_recovery = $3, updated_at = $4 WHERE tenant_id = $1 AND user_id = $2`,
			a.TenantID, a.UserID, k.SealedByRecovery, db.Now()); err != nil {
			return err
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CaseKeyRecoveryRenewed, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "user", ID: a.UserID}}})
	})
	return rec, err
}

// SetUpEscrow makes the company's escrow key pair and splits its private
// key into n shares of which k recover it, to be handed to n custodians
// and never stored. Only its public key is kept; each handler's key is
// sealed to it at their next enrolment or unlock. It is the
// administrator's (company.settings), who reads no case; a new escrow
// replaces the old one.
func (s *Service) SetUpEscrow(ctx context.Context, a access.Actor, n, k int) ([]string, error) {
	if err := mayConfigure(a); err != nil {
		return nil, err
	}
	if k < 2 || n < k || n > 10 {
		return nil, fault.Field("threshold", "whistle.error.escrow_split")
	}
	ident, err := vault.NewIdentity()
	if err != nil {
		return nil, err
	}
	shares, err := vault.Split([]byte(ident.String()), n, k)
	if err != nil {
		return nil, err
	}
	escrowID := id.New()
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_settings (tenant_id, escrow_id, escrow_public_key, escrow_threshold, escrow_shares, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) DO UPDATE SET escrow_id = excluded.escrow_id,
			escrow_public_key = excluded.escrow_public_key, escrow_threshold = excluded.escrow_threshold,
			escrow_shares = excluded.escrow_shares, updated_at = excluded.updated_at`,
			a.TenantID, escrowID, ident.Recipient(), k, n, db.Now()); err != nil {
			return fmt.Errorf("escrow: %w", err)
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CaseEscrowSetUp, Actor: audit.ActorOf(a),
			Details: map[string]string{"shares": fmt.Sprint(n), "threshold": fmt.Sprint(k)}})
	})
	if err != nil {
		return nil, err
	}
	return shares, nil
}

// RecoverWithShares opens a's key through the company's escrow, with the
// custodians' shares, and seals it under password (a's current one,
// checked by the caller) and a new recovery key, which it returns with the
// session envelope.
func (s *Service) RecoverWithShares(ctx context.Context, a access.Actor, session string, shares []string, password string) (recovery, envelope string, err error) {
	if err := mayHandle(a); err != nil {
		return "", "", err
	}
	var r *handlerKeyRow
	var st Settings
	err = s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		if st, err = readSettings(ctx, tx, a.TenantID); err != nil {
			return err
		}
		r, err = readHandlerKey(ctx, tx, a.TenantID, a.UserID)
		return err
	})
	if err != nil {
		return "", "", err
	}
	fail := func() (string, string, error) {
		s.recordUnlock(ctx, a, "escrow", false)
		return "", "", ErrWrongPassword
	}
	if st.EscrowID == "" || r.escrowID != st.EscrowID || r.escrow == nil {
		return fail()
	}
	secret, err := vault.Combine(shares)
	if err != nil {
		return fail()
	}
	escrow, err := vault.ParseIdentity(string(secret))
	if err != nil || escrow.Recipient() != st.EscrowPublic {
		return fail()
	}
	ident, err := vault.OpenIdentity(escrow, escrowBinding(a.TenantID, st.EscrowID, a.UserID), r.escrow)
	if err != nil {
		return fail()
	}
	if err := s.resealPassword(ctx, a, r, ident, password, "escrow"); err != nil {
		return "", "", err
	}
	h := &Handler{Actor: a, key: ident}
	if recovery, err = s.NewRecoveryKey(ctx, h); err != nil {
		return "", "", err
	}
	envelope, err = s.envelope(a, session, ident)
	return recovery, envelope, err
}

// handlerPublicKeys returns the public keys of users who are active,
// enrolled and hold cases.handle now (a user who lost the role gets no
// copy of a case's key, even if still on a channel).
func (s *Service) handlerPublicKeys(ctx context.Context, tx *sql.Tx, tenantID string, users []string) (map[string]string, error) {
	out := map[string]string{}
	for _, u := range users {
		var pub string
		err := tx.QueryRowContext(ctx, `SELECT k.public_key FROM whistle_handler_keys k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
			WHERE k.tenant_id = $1 AND k.user_id = $2 AND u.status = 'active'`, tenantID, u).Scan(&pub)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if ok, err := s.mayHandleNow(ctx, tenantID, u); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		out[u] = pub
	}
	return out, nil
}

// mayHandleNow asks Options.MayHandle (every user may, without one).
func (s *Service) mayHandleNow(ctx context.Context, tenantID, userID string) (bool, error) {
	if s.o.MayHandle == nil {
		return true, nil
	}
	ok, err := s.o.MayHandle(ctx, tenantID, userID)
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// EnrolledHandlers lists the users of a's company who have a case key and
// are active: those a case may be assigned or routed to.
func (s *Service) EnrolledHandlers(ctx context.Context, a access.Actor) ([]string, error) {
	if mayHandle(a) != nil && mayConfigure(a) != nil {
		return nil, ErrForbidden
	}
	var out []string
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		out, err = db.Strings(ctx, tx, `SELECT k.user_id FROM whistle_handler_keys k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
			WHERE k.tenant_id = $1 AND u.status = 'active' ORDER BY k.user_id`, a.TenantID)
		return err
	})
	return out, err
}
