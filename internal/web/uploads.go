package web

import "sync"

// uploadSlots bounds the uploads being read at once, per client address
// (or its key) and in all, so that bodies of many megabytes cannot be
// pushed in parallel until the memory runs out. An address leaves the map
// when its last upload ends. The career page and the reporter's pages
// each keep their own.
type uploadSlots struct {
	mu       sync.Mutex
	inFlight map[string]int
	total    int
}

// enter takes one of the places of key (at most perKey of them, and
// inAll over every key), or reports that there is none free; release
// gives it back (once, however often it is called).
func (u *uploadSlots) enter(key string, perKey, inAll int) (release func(), ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.inFlight == nil {
		u.inFlight = map[string]int{}
	}
	if u.total >= inAll || u.inFlight[key] >= perKey {
		return func() {}, false
	}
	u.inFlight[key]++
	u.total++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			if u.inFlight[key]--; u.inFlight[key] <= 0 {
				delete(u.inFlight, key)
			}
			u.total--
		})
	}, true
}

// keys is how many keys hold a place now.
func (u *uploadSlots) keys() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.inFlight)
}
