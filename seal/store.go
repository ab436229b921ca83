package seal

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tearline/tearline/store"
)

// Store wraps a store.Store so that object content is sealed on its way in
// and opened on its way out. Everything else (labels, access classes,
// bindings, ids, digests, users, the audit log) passes through unchanged:
// the decisions the store answers in SQL still see it.
//
// The backend stays content-agnostic: it keeps Raw and Key as opaque bytes.
// Layering it this way, rather than sealing in each caller, means no reader
// of the node's store, present or future, can be handed ciphertext by
// mistake, nor store plaintext by forgetting to seal.
type Store struct {
	store.Store
	keys *Keyring
}

// Wrap returns s with content sealed under keys.
func Wrap(s store.Store, keys *Keyring) *Store { return &Store{Store: s, keys: keys} }

// Keys returns the keyring content is sealed under.
func (s *Store) Keys() *Keyring { return s.keys }

// Unwrap returns the backend, whose object rows hold ciphertext: for tools
// (backup, key rotation, tests) that work on the stored bytes.
func (s *Store) Unwrap() store.Store { return s.Store }

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(t store.Tx) error { return fn(&tx{Tx: t, keys: s.keys}) })
}

func (s *Store) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	return s.keys.openAll(s.Store.Versions(ctx, id))
}

func (s *Store) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	return s.keys.openAll(s.Store.VersionsOf(ctx, ids))
}

func (s *Store) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	return s.keys.openAll(s.Store.List(ctx, q))
}

type tx struct {
	store.Tx
	keys *Keyring
}

func (t *tx) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	return t.keys.openAll(t.Tx.Versions(ctx, id))
}

func (t *tx) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	return t.keys.openAll(t.Tx.VersionsOf(ctx, ids))
}

func (t *tx) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	return t.keys.openAll(t.Tx.List(ctx, q))
}

// PutObject seals v unless it is sealed already (a Key is set: ingest seals
// in its parallel workers). v itself keeps its plain content.
func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	sv, err := t.keys.sealVersion(v)
	if err != nil {
		return false, err
	}
	created, err := t.Tx.PutObject(ctx, sv)
	v.Seq, v.DateAdded = sv.Seq, sv.DateAdded
	return created, err
}

// PutObjects is PutObject for many versions, in one call where the backend
// can. Per-object refusals come back in errs, as from the backend.
func (t *tx) PutObjects(ctx context.Context, vs []*store.ObjectVersion) ([]bool, []error, error) {
	sealed := make([]*store.ObjectVersion, len(vs))
	for i, v := range vs {
		sv, err := t.keys.sealVersion(v)
		if err != nil {
			return nil, nil, err
		}
		sealed[i] = sv
	}
	created, errs, err := store.PutBatch(ctx, t.Tx, sealed)
	if err != nil {
		return nil, nil, err
	}
	for i, v := range vs {
		v.Seq, v.DateAdded = sealed[i].Seq, sealed[i].DateAdded
	}
	return created, errs, nil
}

// WhereOf names the row v is stored in.
func WhereOf(v *store.ObjectVersion) Where {
	return Where{ID: v.ID, Modified: v.ModifiedAt.UnixMicro(), Digest: v.Digest}
}

// SealVersion seals v's content in place: Raw becomes ciphertext and Key
// its wrapped data key. A version with a Key is sealed already.
func (r *Keyring) SealVersion(v *store.ObjectVersion) error {
	if v.Key != nil {
		return nil
	}
	sealed, wrapped, err := r.Seal(WhereOf(v), v.Raw)
	if err != nil {
		return err
	}
	v.Raw, v.Key = sealed, wrapped
	return nil
}

// sealVersion returns v sealed, as a copy when it must seal.
func (r *Keyring) sealVersion(v *store.ObjectVersion) (*store.ObjectVersion, error) {
	if v.Key != nil {
		return v, nil
	}
	c := *v
	if err := r.SealVersion(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// OpenVersion opens v's content in place: Raw becomes the plain content,
// Key nil and Opened true. The sealed bytes are decrypted where they lie,
// so Raw must not share its storage with anything else; if v does not
// open, Raw no longer holds what was sealed. A version without a Key was
// stored before sealing existed (or by a node without it) and is returned
// as it is, Opened false.
func (r *Keyring) OpenVersion(v *store.ObjectVersion) error {
	if v.Key == nil {
		return nil
	}
	plain, err := r.open(WhereOf(v), v.Raw, v.Key, true)
	if err != nil {
		return fmt.Errorf("open %s version %s: %w", v.ID, v.Modified, err)
	}
	v.Raw, v.Key, v.Opened = plain, nil, true
	return nil
}

// parallelOpen is the page size from which opening is spread over cores.
const parallelOpen = 64

// openAll opens every version of a read; one that does not open fails the
// read, so a reader never receives content that is not what was stored.
func (r *Keyring) openAll(vs []store.ObjectVersion, err error) ([]store.ObjectVersion, error) {
	if err != nil {
		return nil, err
	}
	ps := make([]*store.ObjectVersion, len(vs))
	for i := range vs {
		ps[i] = &vs[i]
	}
	if err := r.OpenVersions(ps); err != nil {
		return nil, err
	}
	return vs, nil
}

// OpenVersions opens sealed versions in place (OpenVersion of each), spread
// over the cores from parallelOpen versions on. It returns the error of the
// first version, in order, that does not open.
func (r *Keyring) OpenVersions(vs []*store.ObjectVersion) error {
	if len(vs) < parallelOpen {
		for _, v := range vs {
			if err := r.OpenVersion(v); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(vs))
	for range min(runtime.GOMAXPROCS(0), len(vs)/16+1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(vs) {
					return
				}
				errs[i] = r.OpenVersion(vs[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
