package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"
)

// Problem kinds reported by Verify.
const (
	Changed          = "changed"   // a record's content no longer matches its hash, or a signed checkpoint
	Deleted          = "deleted"   // records are missing from the chain
	Inserted         = "inserted"  // a record that was not appended in order sits in the chain
	Reordered        = "reordered" // records were swapped
	Truncated        = "truncated" // the newest records are gone, behind a signed checkpoint
	ForgedCheckpoint = "forged_checkpoint"
)

// Problem is the first broken link found in one chain.
type Problem struct {
	TenantID string
	Track    Track
	Seq      int64
	Kind     string
	Message  string
}

func (p Problem) String() string {
	tenant := p.TenantID
	if tenant == "" {
		tenant = "(installation)"
	}
	return fmt.Sprintf("%s %s #%d: %s: %s", tenant, p.Track, p.Seq, p.Kind, p.Message)
}

// VerifyResult summarises a verification.
type VerifyResult struct {
	Chains      int
	Records     int64
	Checkpoints int
	Problems    []Problem
	Duration    time.Duration
}

// Verify walks every chain (of one company when tenantID is non-nil),
// recomputing each hash and link and checking them against the signed
// checkpoints stored in the database and those in extra (the exported
// file). It reports the first broken link of each chain.
func (l *Log) Verify(ctx context.Context, tenantID *string, pub ed25519.PublicKey, extra []Checkpoint) (VerifyResult, error) {
	start := time.Now()
	var res VerifyResult
	chains, err := l.chains(ctx, tenantID)
	if err != nil {
		return res, err
	}
	known := map[chain]bool{}
	for _, c := range chains {
		known[c] = true
	}
	for _, cp := range extra {
		c := chain{cp.TenantID, cp.Track}
		if (tenantID == nil || *tenantID == cp.TenantID) && !known[c] {
			known[c] = true
			chains = append(chains, c) // every record of it is gone
		}
	}
	for _, c := range chains {
		stored, err := l.storedCheckpoints(ctx, c)
		if err != nil {
			return res, err
		}
		cps, p := mergeCheckpoints(c, stored, extra, pub)
		res.Checkpoints += len(cps)
		if p == nil {
			var n int64
			n, p, err = l.verifyChain(ctx, c, cps)
			if err != nil {
				return res, err
			}
			res.Records += n
		}
		res.Chains++
		if p != nil {
			res.Problems = append(res.Problems, *p)
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// mergeCheckpoints joins the stored and exported checkpoints of chain c by
// sequence number, checking signatures and agreement.
func mergeCheckpoints(c chain, stored, extra []Checkpoint, pub ed25519.PublicKey) (map[int64]Checkpoint, *Problem) {
	out := map[int64]Checkpoint{}
	all := append([]Checkpoint{}, stored...)
	for _, cp := range extra {
		if cp.TenantID == c.tenantID && cp.Track == c.track {
			all = append(all, cp)
		}
	}
	for _, cp := range all {
		if !cp.Valid(pub) {
			return nil, &Problem{c.tenantID, c.track, cp.Seq, ForgedCheckpoint, "the checkpoint's signature does not verify"}
		}
		if prev, ok := out[cp.Seq]; ok && prev.Hash != cp.Hash {
			return nil, &Problem{c.tenantID, c.track, cp.Seq, Changed, "two signed checkpoints disagree about this record"}
		}
		out[cp.Seq] = cp
	}
	return out, nil
}

const selectChain = `SELECT seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash
FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq`

func (l *Log) verifyChain(ctx context.Context, c chain, cps map[int64]Checkpoint) (int64, *Problem, error) {
	rows, err := l.db.Read.QueryContext(ctx, selectChain, c.tenantID, string(c.track))
	if err != nil {
		return 0, nil, fmt.Errorf("read chain: %w", err)
	}
	defer rows.Close()
	var (
		n                                   int64
		expected                            int64 = 1
		prevHash                                  = GenesisHash
		first                                     = true
		r                                         = Record{TenantID: c.tenantID, Track: c.track}
		objects, details, actorKind, action string
	)
	problem := func(seq int64, kind, msg string) *Problem {
		return &Problem{c.tenantID, c.track, seq, kind, msg}
	}
	for rows.Next() {
		if err := rows.Scan(&r.Seq, &r.ID, &r.Time, &actorKind, &r.Actor.ID, &action, &objects, &r.RequestID, &details, &r.PrevHash, &r.Hash); err != nil {
			return n, nil, err
		}
		n++
		r.Actor.Kind, r.Action = ActorKind(actorKind), Action(action)
		var err1, err2 error
		r.Objects, err1 = decodeObjects(objects)
		r.Details, err2 = decodeDetails(details)
		if err1 != nil || err2 != nil {
			return n, problem(r.Seq, Changed, "the record's objects or details are not readable"), nil
		}
		if first && r.Seq > 1 {
			// The chain starts after pruning: from the signed checkpoint just before it.
			cp, ok := cps[r.Seq-1]
			if !ok {
				return n, problem(1, Deleted, fmt.Sprintf("records 1 to %d are missing and no signed checkpoint vouches for their removal", r.Seq-1)), nil
			}
			expected, prevHash = r.Seq, cp.Hash
		}
		first = false
		if r.Seq != expected {
			return n, problem(expected, Deleted, fmt.Sprintf("records %d to %d are missing", expected, r.Seq-1)), nil
		}
		if ComputeHash(r.PrevHash, &r) != r.Hash {
			return n, problem(r.Seq, Changed, "the record's content does not match its hash"), nil
		}
		if r.PrevHash != prevHash {
			rows.Close()
			kind, seq, msg, err := l.classifyLink(ctx, c, r.Seq, r.PrevHash)
			if err != nil {
				return n, nil, err
			}
			return n, problem(seq, kind, msg), nil
		}
		if cp, ok := cps[r.Seq]; ok && cp.Hash != r.Hash {
			return n, problem(r.Seq, Changed, "the chain up to this record was rewritten: it differs from the signed checkpoint"), nil
		}
		prevHash = r.Hash
		expected++
	}
	if err := rows.Err(); err != nil {
		return n, nil, err
	}
	var last int64
	for seq := range cps {
		last = max(last, seq)
	}
	if last >= expected {
		return n, problem(expected, Truncated, fmt.Sprintf("records %d to %d are gone; a signed checkpoint counts %d", expected, last, last)), nil
	}
	return n, nil, nil
}

// classifyLink names a broken link at seq whose record names prev as its
// predecessor: the predecessor appears later in the chain (reordered),
// earlier (a record was inserted before seq), or nowhere (deleted).
func (l *Log) classifyLink(ctx context.Context, c chain, seq int64, prev string) (string, int64, string, error) {
	var other int64
	err := l.db.Read.QueryRowContext(ctx, `SELECT seq FROM audit_records WHERE tenant_id = $1 AND track = $2 AND hash = $3`,
		c.tenantID, string(c.track), prev).Scan(&other)
	switch {
	case err != nil && prev == GenesisHash:
		return Inserted, seq - 1, "records were inserted before the chain's first record", nil
	case err != nil:
		return Deleted, seq, "the record before this one is missing", nil
	case other > seq:
		return Reordered, seq, fmt.Sprintf("this record follows record %d in the chain: records were swapped", other), nil
	default:
		return Inserted, seq - 1, fmt.Sprintf("this record was inserted: the next record links to record %d", other), nil
	}
}
