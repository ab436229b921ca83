// Package datadir owns the files of a node's data directory (DIR): where
// each one lives, how it is read and written (atomically, so a running node
// never sees half a file), the configuration, the node's signing keys and
// keyring, the key-encryption key files, and the serving registry that tells
// an operator command whether a node is serving DIR.
//
// A running node and the operator's commands are separate processes that
// share these files. Whatever a command changes is picked up by every
// running node at its next use: readers go through Watched, which takes a
// stat of the files on every use and parses them again only when their
// identity (device, inode, size, modification and change time) moved. An
// atomic rename always gives the file a new inode, so no change is missed
// even within one clock tick.
package datadir

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tearline/tearline/binding"
)

// Files in a node's data directory, relative to it.
const (
	ConfigFile  = "tearline.yaml"
	DBFile      = "tearline.db"
	SigningKey  = "keys/signing.pem"
	TLSCert     = "tls/cert.pem"
	TLSKey      = "tls/key.pem"
	KeyringFile = "keyring.yaml"

	PeersFile   = "peers.yaml"         // partner nodes: name, country, org, TLS certificate
	TrustCAFile = "trust/ca.pem"       // the alliance (or agency) CA bundle: which nodes exist at all
	RevokedFile = "trust/revoked.yaml" // certificates refused although the CA issued them

	// KEKFile holds the KEK, base64, made by init unless EnvKEK is set.
	KEKFile = "keys/kek"
	// KEKNextFile is the KEK a rotation is moving to; it exists only while
	// a rotation is unfinished.
	KEKNextFile = "keys/kek.next"

	// LockFile is the serving lock of a SQLite node (lock.go).
	LockFile = "serve.lock"
	// RunDir holds the admin sockets of the processes serving DIR, one
	// per process (several PostgreSQL replicas may share DIR).
	RunDir = "run"
)

// Path returns the path of the file name (as the constants above spell it)
// in the data directory dir.
func Path(dir, name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }

// AtomicWrite replaces file with data through a temporary file and a
// rename, so a reader (a serving node reloading) never sees half a file and
// always sees a new inode.
func AtomicWrite(file string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable; a failure only weakens durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// WriteSecret writes a new file (which must not exist) with mode 0600 and
// syncs it: for keys.
func WriteSecret(file string, b []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Create writes the files of a new node into dir (empty): its directories,
// configuration, first signing key and, unless the KEK comes from
// $TEARLINE_KEK, its KEK. It returns the signing key. The TLS certificate,
// the audit log's key and the database are made by their owners.
func Create(dir string, cfg Config) (ed25519.PrivateKey, error) {
	for _, d := range []string{"keys", "tls"} {
		if err := os.MkdirAll(Path(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	if err := WriteConfig(Path(dir, ConfigFile), cfg); err != nil {
		return nil, err
	}
	key, err := binding.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := WriteSigningKey(dir, key); err != nil {
		return nil, err
	}
	if err := EnsureKEK(dir); err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	return key, nil
}
