// Package seed fills an installation with synthetic, deterministic data of
// a chosen size: companies with users in every role, positions in several
// languages, candidates of Sweden, Norway, Slovakia, the Czech Republic and
// the United Kingdom with generated CVs, and applications over the stages
// and the last two years with comments, ratings, labels, tasks, interviews,
// emails and the audit trail all of that would have produced. It writes
// through the services' own import paths (the same tables, checks and
// audit log as the live methods), in batches of one transaction each, so
// an interrupted run leaves whole batches.
//
// Every demo, test and benchmark uses this synthetic data; no real
// person's data is ever needed.
package seed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Scale is the size of a run.
type Scale struct {
	Name string
	// Companies is how many companies; the first is the largest.
	Companies int
	// Largest is the number of candidates of the first company; Others
	// the number of each other company.
	Largest, Others int
	// CandidatesPerPosition sets the number of positions of a company
	// (candidates / this, at least 3).
	CandidatesPerPosition int
	// DocumentShare is the share (0 to 1) of candidates who sent a CV file.
	DocumentShare float64
}

// Scales are the sizes `kandidat seed --scale` knows.
var Scales = []Scale{
	{Name: "small", Companies: 1, Largest: 500, CandidatesPerPosition: 50, DocumentShare: 1},
	{Name: "medium", Companies: 5, Largest: 100_000, Others: 2_000, CandidatesPerPosition: 50, DocumentShare: 0.25},
	{Name: "large", Companies: 1_000, Largest: 100_000, Others: 900, CandidatesPerPosition: 50, DocumentShare: 0.02},
}

// ScaleByName returns a scale by its name.
func ScaleByName(name string) (Scale, bool) {
	i := slices.IndexFunc(Scales, func(s Scale) bool { return s.Name == name })
	if i < 0 {
		return Scale{}, false
	}
	return Scales[i], true
}

// ApplicationsPerCandidate is the mean number of applications of a candidate.
const ApplicationsPerCandidate = 3

// Deps are the services the seed writes through.
type Deps struct {
	DB       *db.DB
	Tenants  *tenant.Service
	Accounts *account.Service
	Recruit  *recruit.Service
	Credits  *credit.Service
	Audit    *audit.Log
}

// Options choose what a run makes.
type Options struct {
	Scale Scale
	// Seed makes the run deterministic: the same seed, the same data.
	Seed uint64
	// Append allows a run on an installation that has companies already.
	Append bool
	// Into seeds one existing company (the demo) instead of creating
	// companies: its own users own the positions.
	Into *tenant.Tenant
	// Now is the end of the generated history (default: today, 00:00 UTC).
	Now time.Time
	// Password is the one-time password of the largest company's users
	// (a random one when empty). Users of the other companies get no
	// usable password: an operator gives them one, or they reset it.
	Password string
	// BatchSize is the number of applications per transaction (default 500).
	BatchSize int
	// Workers is how many companies are written at once (default 1). On
	// SQLite, with its one writer, more than one gains little.
	Workers int
	// Progress is told of the work done; nil for none.
	Progress Progress
}

// Progress follows a run.
type Progress interface {
	// Start says how many applications the run will write.
	Start(total int)
	// Add says n more were written.
	Add(n int)
	// Finish ends the display.
	Finish()
}

// Company is a company the run made.
type Company struct {
	ID, Slug, Name string
	// Logins of its users by role ("hr_manager", "recruiter", ...): the first of each.
	Logins     map[string]string
	Candidates int
	Positions  int
}

// Result tells what a run made.
type Result struct {
	Companies []Company
	// Password is the one-time password of the first company's users.
	Password     string
	Candidates   int
	Applications int
	Documents    int
	Elapsed      time.Duration
}

// ErrNotEmpty is returned when the installation has companies and Append is not set.
var ErrNotEmpty = errors.New("the installation already has companies; seed only an empty one, or pass --append")

// Run makes the data.
func Run(ctx context.Context, d Deps, o Options) (*Result, error) {
	start := time.Now()
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if o.Scale.Largest <= 0 {
		return nil, fmt.Errorf("seed: empty scale")
	}
	res := &Result{Password: o.Password}
	var mu sync.Mutex // res and Progress, shared by the workers
	if o.Into == nil {
		n, err := d.Tenants.Count(ctx)
		if err != nil {
			return nil, err
		}
		if n > 0 && !o.Append {
			return nil, ErrNotEmpty
		}
		if res.Password == "" {
			p, err := onetimePassword()
			if err != nil {
				return nil, err
			}
			res.Password = p
		}
	}
	total := o.Scale.Largest + (o.Scale.Companies-1)*o.Scale.Others
	if o.Into != nil {
		total = o.Scale.Largest
	}
	if o.Progress != nil {
		o.Progress.Start(total * ApplicationsPerCandidate)
		defer o.Progress.Finish()
	}
	var unusable string
	if o.Into == nil && o.Scale.Companies > 1 {
		var err error
		if unusable, err = unusableHash(ctx); err != nil {
			return res, err
		}
	}
	n := o.Scale.Companies
	if o.Into != nil {
		n = 1
	}
	companies := make([]Company, n)
	one := func(i int) error {
		g := newGen(o, i)
		g.res, g.mu = res, &mu
		size := o.Scale.Others
		if i == 0 {
			size = o.Scale.Largest
		}
		var c *company
		var err error
		if o.Into != nil {
			c, err = existingCompany(ctx, d, g, o.Into)
		} else {
			pw := res.Password
			if i > 0 {
				pw = ""
			}
			c, err = newCompany(ctx, d, g, i, size, pw, unusable)
		}
		if err != nil {
			return fmt.Errorf("company %d: %w", i+1, err)
		}
		nPos := max(3, size/o.Scale.CandidatesPerPosition)
		if err := g.positions(ctx, d, c, nPos); err != nil {
			return fmt.Errorf("company %d positions: %w", i+1, err)
		}
		if err := g.candidates(ctx, d, c, size); err != nil {
			return fmt.Errorf("company %d candidates: %w", i+1, err)
		}
		companies[i] = Company{ID: c.t.ID, Slug: c.t.Slug, Name: c.t.Name, Logins: c.logins, Candidates: size, Positions: nPos}
		return nil
	}
	// Companies are independent (each draws from its own stream and writes
	// its own chains), so workers may take them in any order: the data is
	// the same. The largest goes first.
	workers := min(max(o.Workers, 1), n)
	next := make(chan int)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			var first error
			for i := range next {
				if first == nil && ctx.Err() == nil {
					first = one(i)
				}
			}
			errs <- first
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	var err error
	for range workers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	for _, c := range companies {
		if c.ID != "" {
			res.Companies = append(res.Companies, c)
		}
	}
	if err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// onetimePassword is four groups of five letters and digits (~100 bits).
func onetimePassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	if !strings.ContainsAny(out.String(), "23456789") {
		return onetimePassword()
	}
	return out.String(), nil
}

// unusableHash is an argon2id hash of a random secret nobody keeps.
func unusableHash(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return account.NewHasher(account.DefaultArgon2, 1).Hash(ctx, fmt.Sprintf("%x", b))
}

// gen draws the data of one company from its own stream, so companies do
// not depend on each other's sizes.
type gen struct {
	o   Options
	r   *mrand.Rand
	idx int
	// seq numbers ids and emails within the company.
	seq uint64
	// res collects the counts of every company, under mu.
	res *Result
	mu  *sync.Mutex
}

func newGen(o Options, company int) *gen {
	return &gen{o: o, r: mrand.New(mrand.NewPCG(o.Seed, uint64(company)+1)), idx: company}
}

// id returns a deterministic id shaped like a UUIDv7 of time t: ids sort
// by creation time, as the application's own do.
func (g *gen) id(t time.Time) string {
	g.seq++
	ms := uint64(t.UnixMilli())
	a := g.r.Uint64()
	b := g.r.Uint64()
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", ms>>16, ms&0xffff, a&0xfff, 0x8000|(a>>12)&0x3fff, b&0xffffffffffff)
}

// between returns a time uniformly in [from, to).
func (g *gen) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	return from.Add(time.Duration(g.r.Int64N(int64(to.Sub(from)))))
}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// History spans two years before Now.
func (g *gen) historyStart() time.Time { return g.o.Now.AddDate(-2, 0, 0) }

// company is a company being seeded.
type company struct {
	t          *tenant.Tenant
	language   string
	logins     map[string]string
	admin      string
	hr         string
	recruiters []string
	lineMgrs   []string
	positions  []seededPosition
}

type seededPosition struct {
	id       string
	owner    string
	language string
	title    string
	created  time.Time
	members  []string
	// weight makes some positions far more popular than others.
	weight int
}
