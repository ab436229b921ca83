package postgres

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/store"
)

// Instance origins (store/instances.go; migration 17).

func (r sharingReader) InstanceOrigins(ctx context.Context, ids []string) ([]store.InstanceOrigin, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := r.q.Query(ctx, `SELECT object_id, instance, originator, origin_instance FROM instance_origins WHERE object_id = ANY($1) ORDER BY object_id, instance`, ids)
	if err != nil {
		return nil, fmt.Errorf("instance origins of %d objects: %w", len(ids), err)
	}
	defer rows.Close()
	var out []store.InstanceOrigin
	for rows.Next() {
		var o store.InstanceOrigin
		if err := rows.Scan(&o.ObjectID, &o.Instance, &o.Originator, &o.OriginInstance); err != nil {
			return nil, fmt.Errorf("instance origins: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("instance origins: %w", err)
	}
	return out, nil
}

func (t *tx) PutInstanceOrigin(ctx context.Context, o store.InstanceOrigin) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO instance_origins (object_id, instance, originator, origin_instance) VALUES ($1, $2, $3, $4)
		ON CONFLICT (object_id, instance) DO NOTHING`, o.ObjectID, o.Instance, o.Originator, o.OriginInstance); err != nil {
		return fmt.Errorf("instance origin of %s instance %d: %w", o.ObjectID, o.Instance, err)
	}
	return nil
}
