package node

import (
	"github.com/tearline/tearline/datadir"
)

// Files in a node's data directory: package datadir owns them; these names
// stay for node's callers.
const (
	ConfigFile  = datadir.ConfigFile
	DBFile      = datadir.DBFile
	SigningKey  = datadir.SigningKey
	TLSCert     = datadir.TLSCert
	TLSKey      = datadir.TLSKey
	KeyringFile = datadir.KeyringFile
)

// Config is a node's configuration (datadir.Config).
type Config = datadir.Config

// LoadConfig reads a YAML config file and fills in defaults.
func LoadConfig(path string) (Config, error) { return datadir.LoadConfig(path) }

func path(dir, name string) string { return datadir.Path(dir, name) }
