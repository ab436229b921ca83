package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/searchindex"
	"github.com/tearline/tearline/store"
)

// RotateKEK moves every data key, and every node key (cursors.go), to a
// new KEK and returns the new KEK's id and how many keys it re-wrapped.
// Content is not re-encrypted.
//
// With the KEK in KEKFile: the new KEK is written to KEKNextFile first, all
// data keys are re-wrapped in one transaction (audited), and only then does
// KEKNextFile replace KEKFile, so the old KEK is gone. A crash at any point
// loses nothing: Open reads both files while both exist, and running the
// rotation again finishes it. With the KEK in $TEARLINE_KEK the new one
// must be in $TEARLINE_NEW_KEK; the operator then moves it into
// $TEARLINE_KEK.
//
// A data key that does not open where its row now stands (the row's id or
// version, or the key, rewritten in the database) is not re-wrapped and
// does not stop the rotation: it is reported (an audit entry and a log
// line each) and its version, which already reads as absent, never opens
// again (seal.RewrapDataKeys).
//
// Every process that has the node open must be stopped first: one still
// holding only the old KEK could not open the re-wrapped keys.
func (n *Node) RotateKEK(ctx context.Context, actor string) (string, int, error) {
	old := n.sealed.Keys()
	var next *seal.KEK
	fromEnv := os.Getenv(EnvKEK) != ""
	var err error
	switch {
	case fromEnv:
		env := os.Getenv(EnvNewKEK)
		if env == "" {
			return "", 0, fmt.Errorf("rotate: the KEK is in $%s: put the new one (base64 of 32 random bytes) in $%s", EnvKEK, EnvNewKEK)
		}
		if next, err = datadir.ParseKEK([]byte(env)); err != nil {
			return "", 0, fmt.Errorf("rotate: $%s: %w", EnvNewKEK, err)
		}
	default:
		b, rerr := os.ReadFile(path(n.dir, KEKNextFile))
		switch {
		case rerr == nil: // an unfinished rotation: finish it
			next, err = datadir.ParseKEK(b)
		case errors.Is(rerr, os.ErrNotExist):
			next, err = datadir.WriteKEKFile(path(n.dir, KEKNextFile))
		default:
			err = rerr
		}
		if err != nil {
			return "", 0, fmt.Errorf("rotate: %s: %w", KEKNextFile, err)
		}
	}
	if next.ID() == old.Current().ID() {
		return "", 0, errors.New("rotate: the new KEK is the current one")
	}
	ring := seal.NewKeyring(next, old.Current())
	count := 0
	var unopened []store.DataKey
	err = n.sealed.Unwrap().Update(ctx, func(tx store.Tx) error {
		dk, err := seal.RewrapDataKeys(ctx, tx, ring)
		if err != nil {
			return err
		}
		// The node's own keys (cursor, access MAC, search index) are wrapped like data keys.
		nk, err := seal.RewrapNodeKeys(ctx, tx, ring)
		if err != nil {
			return err
		}
		count, unopened = dk.Count+nk, dk.Unopened
		for _, k := range unopened { // left as they are, each reported (docs/STORAGE.md, "KEK rotation")
			n.log.Error("data key does not open where its row stands (the row was rewritten in the database): not re-wrapped", "object", k.ID, "seq", k.Seq)
			if err := n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionKeyRotate, Decision: audit.Deny, Object: k.ID,
				Reasons: []string{"data-key-unopened"}, Detail: "seq=" + strconv.FormatInt(k.Seq, 10)}); err != nil {
				return err
			}
		}
		return n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionKeyRotate, Decision: audit.Accept, Count: count,
			Subject: "kek:" + next.ID(), Detail: "from=kek:" + old.Current().ID() + " unopened=" + strconv.Itoa(len(unopened))})
	})
	if err != nil {
		return "", 0, fmt.Errorf("rotate: %w", err)
	}
	if !fromEnv {
		if err := os.Rename(path(n.dir, KEKNextFile), path(n.dir, KEKFile)); err != nil {
			return "", 0, fmt.Errorf("rotate: keys are re-wrapped under %s but %s was not moved into place (run the rotation again): %w", next.ID(), KEKNextFile, err)
		}
		if d, err := os.Open(path(n.dir, "keys")); err == nil {
			_ = d.Sync() // make the rename durable
			d.Close()
		}
	}
	// This node now uses the new KEK alone.
	n.sealed = seal.Wrap(n.sealed.Unwrap(), seal.NewKeyring(next))
	n.index = n.index.With(n.sealed, searchindex.SealedOpener(n.sealed.Keys()))
	n.st = n.index
	n.Scrub(ctx)
	return next.ID(), count, nil
}
