package datadir

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestServeLock(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if h, err := Holder(dir); err != nil || h != nil {
		t.Fatalf("Holder of a directory nobody served: %+v, %v", h, err)
	}
	serve := NewServer("serve", "v", 0)
	r, err := Register(ctx, dir, nil, serve, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Update(ctx, "127.0.0.1:8443", AdminSocket(dir, serve)); err != nil {
		t.Fatal(err)
	}
	h, err := Holder(dir)
	if err != nil || h == nil || h.PID != serve.PID || h.Listen != "127.0.0.1:8443" || h.Command != "serve" {
		t.Fatalf("Holder while serving: %+v, %v", h, err)
	}
	// A second serve, and a command that needs the node alone, are refused
	// with the holder's name.
	for _, cmd := range []string{"serve", "key rotate-kek"} {
		_, err := Register(ctx, dir, nil, NewServer(cmd, "v", 0), cmd != "serve", nil)
		var busy *BusyError
		if !errors.As(err, &busy) || !IsBusy(err) || !strings.Contains(err.Error(), "listening on 127.0.0.1:8443") {
			t.Fatalf("%s while served: %v, want a BusyError naming the server", cmd, err)
		}
	}
	r.Close()
	if h, err := Holder(dir); err != nil || h != nil {
		t.Fatalf("Holder after the server left: %+v, %v", h, err)
	}
	r2, err := Register(ctx, dir, nil, NewServer("key rotate-kek", "v", 0), true, nil)
	if err != nil {
		t.Fatalf("the lock after its holder left: %v", err)
	}
	r2.Close()
}
