package whistle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
)

// Languages a channel may speak.
var Languages = []string{"en", "sv", "nb", "sk", "cs"}

// Question kinds.
const (
	QuestionText        = "text"
	QuestionChoice      = "choice"
	QuestionDate        = "date"
	QuestionAttachments = "attachments"
)

// QuestionKinds lists the kinds a question may have.
var QuestionKinds = []string{QuestionText, QuestionChoice, QuestionDate, QuestionAttachments}

// Choice is a category or an answer a question offers, labelled per language.
type Choice struct {
	Key    string            `json:"key"`
	Labels map[string]string `json:"labels"`
}

// Question is one question of a channel's form.
type Question struct {
	Key      string            `json:"key"`
	Kind     string            `json:"kind"`
	Required bool              `json:"required"`
	Labels   map[string]string `json:"labels"`
	Choices  []Choice          `json:"choices,omitempty"`
}

// Channel is a reporting channel of a company.
type Channel struct {
	ID              string
	Slug            string
	Name            string
	DefaultLanguage string
	Languages       []string
	// Intro is the text above the form, per language (plain text; paragraphs by blank lines).
	Intro      map[string]string
	Categories []Choice
	Questions  []Question
	// AllowIdentified: reporters may give their name (a confidential
	// rather than anonymous report).
	AllowIdentified bool
	// RetentionDays after a case is closed it is deleted.
	RetentionDays int
	Active        bool
	// Handlers are the users the channel's cases are routed to.
	Handlers []string
	Version  int
}

type channelConfig struct {
	Intro      map[string]string `json:"intro"`
	Categories []Choice          `json:"categories"`
	Questions  []Question        `json:"questions"`
}

// Label returns the label of lang, else of the default language, else any.
func Label(labels map[string]string, lang, fallback string) string {
	if v := labels[lang]; v != "" {
		return v
	}
	if v := labels[fallback]; v != "" {
		return v
	}
	for _, l := range Languages {
		if v := labels[l]; v != "" {
			return v
		}
	}
	return ""
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// Retention bounds, in days.
const (
	MinRetentionDays = 30
	MaxRetentionDays = 3650
)

func (c *Channel) check() error {
	inv := fault.Invalid{Fields: map[string]string{}}
	c.Slug = strings.TrimSpace(strings.ToLower(c.Slug))
	c.Name = strings.TrimSpace(c.Name)
	// "case" and "follow-up" are the reporter's own pages beside the channels.
	if !slugRE.MatchString(c.Slug) || c.Slug == "case" || c.Slug == "follow-up" {
		inv.Fields["slug"] = "whistle.error.slug"
	}
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 100 || !utf8.ValidString(c.Name) {
		inv.Fields["name"] = "whistle.error.name"
	}
	langs := []string{}
	for _, l := range Languages {
		if slices.Contains(c.Languages, l) {
			langs = append(langs, l)
		}
	}
	c.Languages = langs
	if len(langs) == 0 || !slices.Contains(langs, c.DefaultLanguage) {
		inv.Fields["languages"] = "whistle.error.languages"
	}
	for l, v := range c.Intro {
		if !slices.Contains(Languages, l) || len(v) > 8000 || !utf8.ValidString(v) {
			inv.Fields["intro_"+l] = "whistle.error.intro"
		}
	}
	if c.RetentionDays < MinRetentionDays || c.RetentionDays > MaxRetentionDays {
		inv.Fields["retention_days"] = "whistle.error.retention"
	}
	if len(c.Categories) > 30 || !labelsOK(c.Categories, c.DefaultLanguage) {
		inv.Fields["categories"] = "whistle.error.categories"
	}
	if len(c.Questions) > 30 {
		inv.Fields["questions"] = "whistle.error.questions"
	}
	keys := map[string]bool{}
	for i, q := range c.Questions {
		f := fmt.Sprintf("question_%d", i)
		switch {
		case !slices.Contains(QuestionKinds, q.Kind):
			inv.Fields[f] = "whistle.error.question_kind"
		case Label(q.Labels, c.DefaultLanguage, c.DefaultLanguage) == "" || !labelsOK([]Choice{{Key: "x", Labels: q.Labels}}, c.DefaultLanguage):
			inv.Fields[f] = "whistle.error.question_label"
		case q.Kind == QuestionChoice && (len(q.Choices) < 2 || len(q.Choices) > 30 || !labelsOK(q.Choices, c.DefaultLanguage)):
			inv.Fields[f] = "whistle.error.question_choices"
		case q.Key == "" || keys[q.Key] || !id.Valid(q.Key):
			inv.Fields[f] = "whistle.error.question_label"
		}
		keys[q.Key] = true
	}
	if len(c.Handlers) > 100 {
		inv.Fields["handlers"] = "whistle.error.handlers"
	}
	if len(inv.Fields) > 0 {
		return &inv
	}
	return nil
}

func labelsOK(cs []Choice, def string) bool {
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Key == "" || seen[c.Key] || !id.Valid(c.Key) || Label(c.Labels, def, def) == "" {
			return false
		}
		seen[c.Key] = true
		for l, v := range c.Labels {
			if !slices.Contains(Languages, l) || utf8.RuneCountInString(v) > 300 || !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

func mayHandle(a access.Actor) error {
	if !a.Can(access.HandleCases) {
		return ErrForbidden
	}
	return nil
}

// mayConfigure: channels, the escrow and the archive recipient are the
// company's configuration, the administrator's (company.settings), who
// cannot read a case; a handler who could route cases or archives to
// themselves could get round an exclusion.
func mayConfigure(a access.Actor) error {
	if !a.Can(access.CompanySettings) {
		return ErrForbidden
	}
	return nil
}

const channelCols = `id, slug, name, default_language, languages, config, allow_identified, retention_days, active, version`

func scanChannel(r interface{ Scan(...any) error }) (*Channel, error) {
	var c Channel
	var langs, cfg string
	if err := r.Scan(&c.ID, &c.Slug, &c.Name, &c.DefaultLanguage, &langs, &cfg, &c.AllowIdentified, &c.RetentionDays, &c.Active, &c.Version); err != nil {
		return nil, err
	}
	c.Languages = strings.Split(langs, ",")
	var conf channelConfig
	if err := json.Unmarshal([]byte(cfg), &conf); err != nil {
		return nil, fmt.Errorf("channel %s config: %w", c.ID, err)
	}
	c.Intro, c.Categories, c.Questions = conf.Intro, conf.Categories, conf.Questions
	if c.Intro == nil {
		c.Intro = map[string]string{}
	}
	return &c, nil
}

func channelHandlers(ctx context.Context, tx *sql.Tx, tenantID, channelID string) ([]string, error) {
	out, err := db.Strings(ctx, tx, `SELECT user_id FROM whistle_channel_handlers WHERE tenant_id = $1 AND channel_id = $2 ORDER BY user_id`, tenantID, channelID)
	if err != nil {
		return nil, fmt.Errorf("channel handlers: %w", err)
	}
	return out, nil
}

// Channels lists the company's channels.
func (s *Service) Channels(ctx context.Context, a access.Actor) ([]*Channel, error) {
	if err := mayConfigure(a); err != nil {
		return nil, err
	}
	var out []*Channel
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+channelCols+` FROM whistle_channels WHERE tenant_id = $1 ORDER BY name, id`, a.TenantID)
		if err != nil {
			return fmt.Errorf("channels: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChannel(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, c := range out {
			if c.Handlers, err = channelHandlers(ctx, tx, a.TenantID, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Channel returns one channel of the company.
func (s *Service) Channel(ctx context.Context, a access.Actor, channelID string) (*Channel, error) {
	if err := mayConfigure(a); err != nil {
		return nil, err
	}
	var c *Channel
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		var err error
		c, err = scanChannel(tx.QueryRowContext(ctx, `SELECT `+channelCols+` FROM whistle_channels WHERE tenant_id = $1 AND id = $2`, a.TenantID, channelID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		c.Handlers, err = channelHandlers(ctx, tx, a.TenantID, c.ID)
		return err
	})
	return c, err
}

// SaveChannel creates (c.ID == "") or updates a channel; an update whose
// c.Version is not the stored one fails with ErrStale. It returns the id.
func (s *Service) SaveChannel(ctx context.Context, a access.Actor, c Channel) (string, error) {
	if err := mayConfigure(a); err != nil {
		return "", err
	}
	if err := c.check(); err != nil {
		return "", err
	}
	cfg, err := json.Marshal(channelConfig{Intro: c.Intro, Categories: c.Categories, Questions: c.Questions})
	if err != nil {
		return "", err
	}
	if s.o.MayHandle != nil {
		for _, u := range c.Handlers {
			ok, err := s.o.MayHandle(ctx, a.TenantID, u)
			if err != nil && !errors.Is(err, fault.ErrNotFound) {
				return "", err
			}
			if !ok {
				return "", fault.Field("handlers", "whistle.error.handlers")
			}
		}
	}
	creating := c.ID == ""
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		now := db.Now()
		for _, u := range c.Handlers {
			var ok int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, a.TenantID, u).Scan(&ok)
			if errors.Is(err, sql.ErrNoRows) {
				return fault.Field("handlers", "whistle.error.handlers")
			}
			if err != nil {
				return err
			}
		}
		if creating {
			// The company's settings row is the lock of its channels: two
			// creations at once are counted one after the other.
			if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_settings (tenant_id, updated_at) VALUES ($1, $2)
				ON CONFLICT (tenant_id) DO UPDATE SET updated_at = excluded.updated_at`, a.TenantID, now); err != nil {
				return fmt.Errorf("lock channels: %w", err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM whistle_channels WHERE tenant_id = $1`, a.TenantID).Scan(&n); err != nil {
				return err
			}
			if n >= MaxChannels {
				return fault.Field("", "whistle.error.too_many_channels")
			}
			c.ID = id.New()
			_, err := tx.ExecContext(ctx, `INSERT INTO whistle_channels (tenant_id, id, slug, name, default_language, languages, config,
				allow_identified, retention_days, active, version, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)`,
				a.TenantID, c.ID, c.Slug, c.Name, c.DefaultLanguage, strings.Join(c.Languages, ","), string(cfg),
				c.AllowIdentified, c.RetentionDays, c.Active, now)
			if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
				return fault.Field("slug", "whistle.error.slug_taken")
			}
			if err != nil {
				return fmt.Errorf("insert channel: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE whistle_channels SET slug = $3, name = $4, default_language = $5, languages = $6,
				config = $7, allow_identified = $8, retention_days = $9, active = $10, version = version + 1, updated_at = $11
				WHERE tenant_id = $1 AND id = $2 AND version = $12`,
				a.TenantID, c.ID, c.Slug, c.Name, c.DefaultLanguage, strings.Join(c.Languages, ","), string(cfg),
				c.AllowIdentified, c.RetentionDays, c.Active, now, c.Version)
			if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
				return fault.Field("slug", "whistle.error.slug_taken")
			}
			if err != nil {
				return fmt.Errorf("update channel: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var one int
				if err := tx.QueryRowContext(ctx, `SELECT 1 FROM whistle_channels WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				return ErrStale
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM whistle_channel_handlers WHERE tenant_id = $1 AND channel_id = $2`, a.TenantID, c.ID); err != nil {
				return err
			}
		}
		for _, u := range c.Handlers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_channel_handlers (tenant_id, channel_id, user_id) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, a.TenantID, c.ID, u); err != nil {
				return fmt.Errorf("channel handler: %w", err)
			}
		}
		action := audit.ChannelChanged
		if creating {
			action = audit.ChannelCreated
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: action, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "channel", ID: c.ID}}, Details: map[string]string{"active": fmt.Sprint(c.Active)}})
	})
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// OpenChannel returns the active channel slug of the company tenantID for
// its public page; ErrUnavailable when it takes no reports (inactive, or
// none of its handlers has a case key, so no one could read a report).
func (s *Service) OpenChannel(ctx context.Context, tenantID, slug string) (*Channel, error) {
	var c *Channel
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		c, err = scanChannel(tx.QueryRowContext(ctx, `SELECT `+channelCols+` FROM whistle_channels WHERE tenant_id = $1 AND slug = $2`, tenantID, slug))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !c.Active {
			return ErrUnavailable
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM whistle_channel_handlers h JOIN whistle_handler_keys k
			ON k.tenant_id = h.tenant_id AND k.user_id = h.user_id WHERE h.tenant_id = $1 AND h.channel_id = $2`, tenantID, c.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrUnavailable
		}
		return nil
	})
	return c, err
}

// ActiveChannels lists the channels of a company that take reports (the
// public index page).
func (s *Service) ActiveChannels(ctx context.Context, tenantID string) ([]*Channel, error) {
	var out []*Channel
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+channelCols+` FROM whistle_channels c WHERE tenant_id = $1 AND active
			AND EXISTS (SELECT 1 FROM whistle_channel_handlers h JOIN whistle_handler_keys k ON k.tenant_id = h.tenant_id AND k.user_id = h.user_id
				WHERE h.tenant_id = c.tenant_id AND h.channel_id = c.id) ORDER BY name, id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChannel(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
