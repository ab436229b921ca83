package node

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
)

// The audit log's own note key: checkpoints are signed with it, not with
// the binding key, so the two can be rotated and disclosed separately.
const (
	LogKey    = "keys/log.key" // note signer key (secret)
	LogPubKey = "keys/log.pub" // note verifier key, for oversight bodies
)

// MaxAuditEntries bounds one read of audit entries.
const MaxAuditEntries = 1000

// DefaultCheckpointInterval is how often serve signs a checkpoint when the
// log has grown.
const DefaultCheckpointInterval = time.Minute

// logKeys is the audit log's signer and verifier.
type logKeys struct {
	signer note.Signer
	vkey   string
}

// ensureLogKey creates the log key pair in dir if it is missing, named
// "<node name>/audit": the checkpoints' origin.
func ensureLogKey(dir, name string) error {
	if _, err := os.Stat(path(dir, LogKey)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("log key: %w", err)
	}
	skey, vkey, err := audit.GenerateLogKey(name + "/audit")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path(dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	if err := os.WriteFile(path(dir, LogPubKey), []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	// O_EXCL: two processes opening an old node at once keep one key.
	f, err := os.OpenFile(path(dir, LogKey), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("log key: %w", err)
	}
	return f.Close()
}

// loadLogKeys reads the log key pair, creating it for nodes made before the
// log was signed.
func loadLogKeys(dir, name string) (logKeys, error) {
	if err := ensureLogKey(dir, name); err != nil {
		return logKeys{}, err
	}
	skey, err := os.ReadFile(path(dir, LogKey))
	if err != nil {
		return logKeys{}, fmt.Errorf("log key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return logKeys{}, fmt.Errorf("log key %s: %w", LogKey, err)
	}
	vkey, err := ReadLogVerifierKey(dir)
	if err != nil {
		return logKeys{}, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return logKeys{}, fmt.Errorf("log key: %s does not match %s", LogPubKey, LogKey)
	}
	return logKeys{signer: s, vkey: vkey}, nil
}

// ReadLogVerifierKey returns the verifier key of the log in dir.
func ReadLogVerifierKey(dir string) (string, error) {
	b, err := os.ReadFile(path(dir, LogPubKey))
	if err != nil {
		return "", fmt.Errorf("log verifier key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// AuditLogKey returns the verifier key of this node's audit log.
func (n *Node) AuditLogKey() string { return n.logKeys.vkey }

// LogSigner signs the audit log's checkpoints and rollback statements.
func (n *Node) LogSigner() note.Signer { return n.logKeys.signer }
