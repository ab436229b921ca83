package store

import "context"

// Hooks are what a store wrapper does in the writing transaction after the
// writes it watches (accessmac seals the versions a put created, searchindex
// indexes them and prunes the postings of purged versions). A nil hook is
// not called.
type Hooks struct {
	// Created is given the versions a PutObject or PutObjects created,
	// their seqs assigned, in order; never called with none.
	Created func(ctx context.Context, tx Tx, vs []*ObjectVersion) error
	// Purged is given what PurgeVersions selected and the tombstones it
	// returned, after it succeeded.
	Purged func(ctx context.Context, tx Tx, p Purge, gone []Tombstone) error
}

// HookedTx is a Tx whose writes call Hooks: store wrappers embed it in
// their transaction type. Everything else passes through to Tx.
type HookedTx struct {
	Tx
	Hooks Hooks
}

// Hook returns tx calling h.
func Hook(tx Tx, h Hooks) *HookedTx { return &HookedTx{Tx: tx, Hooks: h} }

// PutObject stores v; if it was created, Created is given it.
func (t *HookedTx) PutObject(ctx context.Context, v *ObjectVersion) (bool, error) {
	created, err := t.Tx.PutObject(ctx, v)
	if err != nil || !created || t.Hooks.Created == nil {
		return created, err
	}
	return true, t.Hooks.Created(ctx, t.Tx, []*ObjectVersion{v})
}

// PutObjects stores vs, in one call where the transaction underneath can
// (PutBatch), and gives Created those it created.
func (t *HookedTx) PutObjects(ctx context.Context, vs []*ObjectVersion) ([]bool, []error, error) {
	created, errs, err := PutBatch(ctx, t.Tx, vs)
	if err != nil {
		return nil, nil, err
	}
	if t.Hooks.Created == nil {
		return created, errs, nil
	}
	var made []*ObjectVersion
	for i, v := range vs {
		if created[i] && errs[i] == nil {
			made = append(made, v)
		}
	}
	if len(made) == 0 {
		return created, errs, nil
	}
	return created, errs, t.Hooks.Created(ctx, t.Tx, made)
}

// PurgeVersions purges what p selects, then calls Purged.
func (t *HookedTx) PurgeVersions(ctx context.Context, p Purge) ([]Tombstone, error) {
	gone, err := t.Tx.PurgeVersions(ctx, p)
	if err != nil || t.Hooks.Purged == nil {
		return gone, err
	}
	return gone, t.Hooks.Purged(ctx, t.Tx, p, gone)
}
