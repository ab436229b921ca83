package taxii

import (
	"sync"
	"time"
)

// Limits of the status store. Statuses live in memory: Tearline ingests
// synchronously, so a status is complete when the POST is answered and only
// needs to outlive the client's next GET. A restart forgets them; the
// ingest itself is in the store and its audit log.
const (
	statusTTL        = 24 * time.Hour
	statusMaxEntries = 1024
	statusMaxDetails = 1 << 20 // details held across all statuses
)

type statusEntry struct {
	owner   string
	status  Status
	expires time.Time
}

// statusStore keeps recent statuses, bounded by count, details and age.
type statusStore struct {
	mu      sync.Mutex
	byID    map[string]*statusEntry
	order   []string // oldest first
	details int
	now     func() time.Time
}

func newStatusStore(now func() time.Time) *statusStore {
	return &statusStore{byID: map[string]*statusEntry{}, now: now}
}

func size(s Status) int { return len(s.Successes) + len(s.Failures) + len(s.Pendings) }

func (s *statusStore) put(owner string, st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.byID[st.ID] = &statusEntry{owner: owner, status: st, expires: now.Add(statusTTL)}
	s.order = append(s.order, st.ID)
	s.details += size(st)
	// Evict the expired, then the oldest, until within bounds; the newest
	// always stays.
	for len(s.order) > 1 {
		e := s.byID[s.order[0]]
		if e != nil && e.expires.After(now) && len(s.order) <= statusMaxEntries && s.details <= statusMaxDetails {
			break
		}
		if e != nil {
			s.details -= size(e.status)
			delete(s.byID, s.order[0])
		}
		s.order[0] = ""
		s.order = s.order[1:]
	}
}

// get returns a status only to the caller that created it: another caller
// gets "not found", as for an id that never existed.
func (s *statusStore) get(owner, id string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok || e.owner != owner || !e.expires.After(s.now()) {
		return Status{}, false
	}
	return e.status, true
}
