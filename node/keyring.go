package node

import (
	"fmt"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
)

// LoadKeyring returns the keyring of the node in dir without opening its
// database: its own public key and keyring.yaml. Offline verification uses it.
func LoadKeyring(dir string) (*binding.Keyring, error) { return datadir.LoadKeyring(dir) }

// Signer returns the signer of the node's signing key as keys/signing.pem
// says now: after `tearline key rotate` the next binding is made with the
// new key, in every process serving the data directory.
func (n *Node) Signer() (*binding.Signer, error) {
	ks, err := n.keys.Current()
	if err != nil {
		return nil, fmt.Errorf("node keys: %w", err)
	}
	return ks.Signer, nil
}

// Keyring returns the keys this node verifies bindings with as
// keyring.yaml says now: a key revoked or a peer added by a command is
// refused or known from the next verification on. An unreadable keyring is
// an error: verification fails closed.
func (n *Node) Keyring() (*binding.Keyring, error) {
	ks, err := n.keys.Current()
	if err != nil {
		return nil, fmt.Errorf("node keys: %w", err)
	}
	return ks.Keyring, nil
}
