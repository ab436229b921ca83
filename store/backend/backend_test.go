package backend

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestOpenURL: unknown schemes are refused without echoing the URL,
// which may hold a password.
func TestOpenURL(t *testing.T) {
	for _, url := range []string{"mysql://u:s3cr3t@db/tearline", "host=db password=s3cr3t"} {
		st, err := Open(t.Context(), t.TempDir(), url)
		if err == nil {
			st.Close()
			t.Fatalf("Open(%q) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestOpenNeedsSQLiteFile: Open never makes a SQLite file (a node whose
// store is PostgreSQL, opened without its URL, must not start afresh);
// Create does, and Open then finds it.
func TestOpenNeedsSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	if st, err := Open(t.Context(), dir, ""); !errors.Is(err, ErrNoDatabase) {
		if err == nil {
			st.Close()
		}
		t.Fatalf("Open of a directory without %s = %v, want ErrNoDatabase", SQLiteFile, err)
	}
	if _, err := os.Stat(SQLitePath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open made %s: %v", SQLiteFile, err)
	}
	st, err := Creator("")(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Opener("")(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open after Create: %v", err)
	}
	st.Close()
}
