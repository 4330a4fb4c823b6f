package audit_test

import (
	"context"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
)

func itoa(i int) string { return strconv.Itoa(i) }

func (f *fixture) exec(q string) {
	f.t.Helper()
	if _, err := f.d.Write.Exec(q); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// rehash recomputes the stored hash of record seq from its content, as a
// forger who knows the algorithm would.
func (f *fixture) rehash(tenant string, seq int64) {
	f.t.Helper()
	r := f.load(tenant, seq)
	f.exec(`UPDATE audit_records SET hash = '` + audit.ComputeHash(r.PrevHash, &r) + `' WHERE tenant_id = '` + tenant + `' AND track = 'security' AND seq = ` + strconv.FormatInt(seq, 10))
}

func (f *fixture) load(tenant string, seq int64) audit.Record {
	f.t.Helper()
	var r audit.Record
	for _, rec := range f.all(tenant) {
		if rec.Seq == seq {
			r = rec
		}
	}
	return r
}

func (f *fixture) all(tenant string) []audit.Record {
	f.t.Helper()
	var out []audit.Record
	after := ""
	for {
		recs, next, err := f.log.List(t0(), tenant, audit.Filter{After: after})
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, recs...)
		if next == "" {
			return out
		}
		after = next
	}
}

// forge writes a well-formed record at seq linked to record prevSeq.
func (f *fixture) forge(tenant string, seq, prevSeq int64) {
	f.t.Helper()
	prev := f.load(tenant, prevSeq)
	r := audit.Record{TenantID: tenant, Track: audit.Security, Seq: seq, ID: "forged-" + strconv.FormatInt(seq, 10), Time: prev.Time.Add(time.Millisecond),
		Actor: audit.User("intruder"), Action: audit.SignInSucceeded, Objects: []audit.Ref{}, Details: map[string]string{}, PrevHash: prev.Hash}
	r.Hash = audit.ComputeHash(r.PrevHash, &r)
	if _, err := f.d.Write.Exec(`INSERT INTO audit_records (tenant_id, track, seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash)
		VALUES ($1, 'security', $2, $3, $4, 'user', 'intruder', $5, '[]', '', '{}', $6, $7)`, tenant, seq, r.ID, r.Time, string(r.Action), r.PrevHash, r.Hash); err != nil {
		f.t.Fatal(err)
	}
}

func t0() context.Context { return context.Background() }
