package web

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiRateWindow is the window of the API's rate limits.
const apiRateWindow = time.Minute

// apiLimiter counts requests per key (an address, a token) in fixed
// windows of a minute. A key's count is forgotten when its window ends:
// the map holds the keys of the current window only, swept as windows
// pass, so that no address outlives its minute in memory.
type apiLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	start time.Time // of the current window
	n     map[string]int
}

func newAPILimiter() *apiLimiter {
	return &apiLimiter{now: time.Now, n: map[string]int{}}
}

// allow counts a request of key against limit per window and sets the
// RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy and
// what remains of it. A limit of 0 or less means no limit.
func (l *apiLimiter) allow(w http.ResponseWriter, key string, limit int) bool {
	if limit <= 0 {
		return true
	}
	l.mu.Lock()
	now := l.now()
	if now.Sub(l.start) >= apiRateWindow || now.Before(l.start) {
		l.start = now.Truncate(apiRateWindow)
		clear(l.n)
	}
	n := l.n[key]
	ok := n < limit
	if ok {
		n++
		l.n[key] = n
	}
	reset := int(l.start.Add(apiRateWindow).Sub(now).Seconds() + 0.999)
	l.mu.Unlock()
	h := w.Header()
	name := key
	if i := strings.IndexByte(key, ':'); i > 0 {
		name = key[:i]
	}
	h.Set("RateLimit-Policy", `"`+name+`";q=`+strconv.Itoa(limit)+`;w=`+strconv.Itoa(int(apiRateWindow.Seconds())))
	h.Set("RateLimit", `"`+name+`";r=`+strconv.Itoa(limit-n)+`;t=`+strconv.Itoa(reset))
	h.Set("RateLimit-Limit", strconv.Itoa(limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(limit-n))
	h.Set("RateLimit-Reset", strconv.Itoa(reset))
	if !ok {
		h.Set("Retry-After", strconv.Itoa(reset))
	}
	return ok
}
