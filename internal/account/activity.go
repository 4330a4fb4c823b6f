package account

import (
	"sync"
	"time"
)

// activity remembers, per session, the exact time of its last request in
// this process. The database keeps last_seen_at to the minute (one write a
// minute per session, not one per request); the idle timeout is measured
// from the later of the two, so it ends exactly the configured time after
// the last request this process served. Another instance of a cluster sees
// only the stored minute and may end a session up to a minute early, never
// late. Forgetting (a restart, a flood) errs the same safe way.
type activity struct {
	mu   sync.Mutex
	last map[string]time.Time // session token hash -> last request
}

// activityEntries bounds the map: beyond it, entries idle past the timeout
// go, and if that is not enough the map starts afresh.
const activityEntries = 200_000

func newActivity() *activity { return &activity{last: map[string]time.Time{}} }

// seen returns the later of stored and the last request remembered for the
// session, and remembers now as its last request.
func (a *activity) seen(hash string, stored, now time.Time, idle time.Duration) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	last := stored
	if t, ok := a.last[hash]; ok && t.After(last) {
		last = t
	}
	if len(a.last) >= activityEntries {
		for k, t := range a.last {
			if now.Sub(t) >= idle {
				delete(a.last, k)
			}
		}
		if len(a.last) >= activityEntries {
			a.last = map[string]time.Time{}
		}
	}
	return last
}

// touch records a request of the session at now.
func (a *activity) touch(hash string, now time.Time) {
	a.mu.Lock()
	a.last[hash] = now
	a.mu.Unlock()
}

// forget drops a session that ended.
func (a *activity) forget(hash string) {
	a.mu.Lock()
	delete(a.last, hash)
	a.mu.Unlock()
}
