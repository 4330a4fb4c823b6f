package backup

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleManifest() Manifest {
	sum := strings.Repeat("ab", 32)
	at := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	m := Manifest{Format: 1, ID: "20261203T160000Z-0a1b2c", Version: "1.0", Engine: EngineSQLite, SchemaVersion: 44,
		Migrations: []string{"0001_init.sql", "0044_whistleblowing.sql"}, StartedAt: at, FinishedAt: at.Add(time.Second), Files: 2}
	for _, n := range []string{PartSQLite, PartFiles, PartLedger, PartCheckpoints} {
		m.Parts = append(m.Parts, Part{Name: n, Object: n + ".age", Size: 10, SHA256: sum, StoredSize: 300, StoredSHA256: sum})
	}
	return m
}

func TestParseManifest(t *testing.T) {
	good, _ := json.Marshal(sampleManifest())
	if m, err := parseManifest(good); err != nil || !reflect.DeepEqual(*m, sampleManifest()) {
		t.Fatalf("parse a good manifest: %v", err)
	}
	for name, change := range map[string]func(m *Manifest){
		"format 2":          func(m *Manifest) { m.Format = 2 },
		"bad id":            func(m *Manifest) { m.ID = "../x" },
		"unknown engine":    func(m *Manifest) { m.Engine = "mysql" },
		"pgdump on sqlite":  func(m *Manifest) { m.Parts[0].Name, m.Parts[0].Object = PartPGDump, PartPGDump+".age" },
		"object elsewhere":  func(m *Manifest) { m.Parts[1].Object = "../../etc/passwd" },
		"part twice":        func(m *Manifest) { m.Parts[2] = m.Parts[1] },
		"part missing":      func(m *Manifest) { m.Parts = m.Parts[:3] },
		"negative size":     func(m *Manifest) { m.Parts[0].Size = -1 },
		"short hash":        func(m *Manifest) { m.Parts[0].SHA256 = "abc" },
		"upper-case hash":   func(m *Manifest) { m.Parts[0].StoredSHA256 = strings.Repeat("AB", 32) },
		"negative files":    func(m *Manifest) { m.Files = -1 },
		"unknown part name": func(m *Manifest) { m.Parts[3].Name, m.Parts[3].Object = "x", "x.age" },
	} {
		m := sampleManifest()
		change(&m)
		b, _ := json.Marshal(m)
		if _, err := parseManifest(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, bad := range []string{"", "{", "null", string(good) + "{}", "[]"} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzReadManifest: the parser of what a target hands back never panics,
// and what it accepts is a manifest it writes back the same.
func FuzzReadManifest(f *testing.F) {
	good, _ := json.Marshal(sampleManifest())
	f.Add(good)
	m := sampleManifest()
	m.Engine = EnginePostgres
	m.Parts[0].Name, m.Parts[0].Object = PartPGDump, PartPGDump+".age"
	pg, _ := json.Marshal(m)
	f.Add(pg)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseManifest(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("accepted manifest does not round-trip: %v", err)
		}
		if _, err := ParseID(m.ID); err != nil {
			t.Fatalf("accepted id %q", m.ID)
		}
		for _, p := range m.Parts {
			if strings.ContainsAny(p.Object, "/\\") {
				t.Fatalf("accepted object %q", p.Object)
			}
		}
	})
}

func TestParsePGURL(t *testing.T) {
	c, err := parsePGURL("postgres://kandidat:s%40cret@db.example:5433/app?sslmode=verify-full&search_path=tenant1,%22$user%22&pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.libpq, "cret") || strings.Contains(c.libpq, "search_path") || strings.Contains(c.libpq, "pool_max") || !strings.Contains(c.libpq, "sslmode=verify-full") {
		t.Errorf("libpq URL %s", c.libpq)
	}
	if c.password != "s@cret" || len(c.schemas) != 1 || c.schemas[0] != "tenant1" {
		t.Errorf("password %q schemas %v", c.password, c.schemas)
	}
	env := strings.Join(c.env(), "\n")
	if !strings.Contains(env, "PGPASSWORD=s@cret") || !strings.Contains(env, "PGOPTIONS=-c kandidat.tenant_id=*") {
		t.Error("the password or the scope is missing from the environment")
	}
	if c, _ := parsePGURL("postgres://u@h/d"); len(c.schemas) != 1 || c.schemas[0] != "public" {
		t.Errorf("default schema %v", c.schemas)
	}
	if _, err := parsePGURL("mysql://x"); err == nil {
		t.Error("a mysql URL accepted")
	}
}

// TestFindPGTool: a pg_dump older than the server is refused with a
// sentence that says what to install; a newer one is taken.
func TestFindPGTool(t *testing.T) {
	dir := t.TempDir()
	tool := func(major int) {
		script := fmt.Sprintf("#!/bin/sh\necho 'pg_dump (PostgreSQL) %d.2 (Debian)'\n", major)
		if err := os.WriteFile(filepath.Join(dir, "pg_dump"), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tool(13)
	if _, err := findPGTool("pg_dump", dir, 15); err == nil || !strings.Contains(err.Error(), "older than the PostgreSQL server (version 15)") || !strings.Contains(err.Error(), "postgresql-client-15") {
		t.Errorf("old pg_dump: %v", err)
	}
	tool(16)
	if p, err := findPGTool("pg_dump", dir, 15); err != nil || p != filepath.Join(dir, "pg_dump") {
		t.Errorf("newer pg_dump: %s %v", p, err)
	}
	if _, err := findPGTool("pg_restore", dir, 15); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing pg_restore: %v", err)
	}
}
