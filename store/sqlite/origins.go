package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/store"
)

// Instance origins (store/instances.go; migration 17).

func (r sharingReader) InstanceOrigins(ctx context.Context, ids []string) ([]store.InstanceOrigin, error) {
	var out []store.InstanceOrigin
	for _, chunk := range distinctChunks(ids) {
		in, args := placeholders(chunk)
		rows, err := r.q.QueryContext(ctx, `SELECT object_id, instance, originator, origin_instance FROM instance_origins WHERE object_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("instance origins of %d objects: %w", len(chunk), err)
		}
		for rows.Next() {
			var o store.InstanceOrigin
			if err := rows.Scan(&o.ObjectID, &o.Instance, &o.Originator, &o.OriginInstance); err != nil {
				rows.Close()
				return nil, fmt.Errorf("instance origins: %w", err)
			}
			out = append(out, o)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("instance origins: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b store.InstanceOrigin) int {
		if c := strings.Compare(a.ObjectID, b.ObjectID); c != 0 {
			return c
		}
		return int(a.Instance - b.Instance)
	})
	return out, nil
}

func (t *tx) PutInstanceOrigin(ctx context.Context, o store.InstanceOrigin) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO instance_origins (object_id, instance, originator, origin_instance) VALUES (?, ?, ?, ?)
		ON CONFLICT (object_id, instance) DO NOTHING`, o.ObjectID, o.Instance, o.Originator, o.OriginInstance); err != nil {
		return fmt.Errorf("instance origin of %s instance %d: %w", o.ObjectID, o.Instance, err)
	}
	return nil
}
