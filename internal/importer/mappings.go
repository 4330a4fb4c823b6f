package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
)

// Mappings lists the company's saved mappings (by name) after the
// built-in ones.
func (s *Service) Mappings(ctx context.Context, a access.Actor) ([]*Mapping, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	var out []*Mapping
	for _, n := range BuiltinNames() {
		out = append(out, Builtin[n].clone())
	}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		q, err := tx.QueryContext(ctx, `SELECT name, definition FROM import_mappings WHERE tenant_id = $1 ORDER BY name LIMIT 200`, a.TenantID)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var name, def string
			if err := q.Scan(&name, &def); err != nil {
				return err
			}
			m, err := DecodeMapping(def)
			if err != nil {
				continue // written by a later version: not offered
			}
			m.Name = name
			out = append(out, m)
		}
		return q.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list import mappings: %w", err)
	}
	return out, nil
}

// MappingByName returns a saved or built-in mapping.
func (s *Service) MappingByName(ctx context.Context, a access.Actor, name string) (*Mapping, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	var def string
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT definition FROM import_mappings WHERE tenant_id = $1 AND name = $2`, a.TenantID, name).Scan(&def)
	})
	if errors.Is(err, sql.ErrNoRows) {
		if m, ok := Builtin[name]; ok {
			return m.clone(), nil
		}
		return nil, ErrMappingUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("read import mapping: %w", err)
	}
	m, err := DecodeMapping(def)
	if err != nil {
		return nil, ErrMappingUnknown
	}
	m.Name = name
	return m, nil
}

// SaveMapping saves m under its name (a built-in name cannot be taken).
func (s *Service) SaveMapping(ctx context.Context, a access.Actor, m *Mapping) error {
	if err := authorize(a); err != nil {
		return err
	}
	if m.Name == "" || Builtin[m.Name] != nil {
		return ErrMappingName
	}
	if err := m.Check(); err != nil {
		return err
	}
	def := m.clone()
	def.Name = ""
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_mappings (tenant_id, name, definition, created_by, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
			a.TenantID, m.Name, def.Encode(), a.UserID, db.Time(s.o.Now())); err != nil {
			return fmt.Errorf("save import mapping: %w", err)
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ImportMappingSaved, Actor: audit.ActorOf(a)})
	})
}
