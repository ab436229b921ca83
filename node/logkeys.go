package node

import (
	"time"

	"github.com/tearline/tearline/datadir"
	"golang.org/x/mod/sumdb/note"
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

// loadLogKeys reads the log key pair (datadir.LoadLogKey).
func loadLogKeys(dir, name string) (logKeys, error) {
	s, vkey, err := datadir.LoadLogKey(dir, name)
	return logKeys{signer: s, vkey: vkey}, err
}

// AuditLogKey returns the verifier key of this node's audit log.
func (n *Node) AuditLogKey() string { return n.logKeys.vkey }

// LogSigner signs the audit log's checkpoints and rollback statements.
func (n *Node) LogSigner() note.Signer { return n.logKeys.signer }
