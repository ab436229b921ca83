package store

// Base returns the backend beneath s: s with every wrapper (sealing,
// access MAC checks) taken off, each one that wraps another store saying
// so with Unwrap. Tools that need what only the backend offers (backup,
// the serving registry, its own metrics) use it.
func Base(s Store) Store {
	for {
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}
