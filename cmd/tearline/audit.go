package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
)

func auditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit",
		Short: "Export, checkpoint and verify the tamper-evident audit log",
	}
	c.AddCommand(auditVerifyCmd(), auditExportCmd(), auditCheckpointCmd(), auditKeyCmd())
	c.AddCommand(auditLedgerCmd())     // release.go
	c.AddCommand(auditSplitViewsCmd()) // witness.go
	return c
}

// openAuditStore opens the node's store (the SQLite file in dir, or the
// database --store names) without opening the node, so verification needs
// no keys but the public one. A SQLite file that is not there is not
// created.
func openAuditStore(cmd *cobra.Command, dir, storeURL string) (store.Store, error) {
	st, err := backend.Open(cmd.Context(), dir, resolveStore(storeURL))
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return st, nil
}

// loadVerifier reads a verifier key given inline or as a file name.
func loadVerifier(key, dir string) (note.Verifier, error) {
	if key == "" {
		k, err := datadir.ReadLogVerifierKey(dir)
		if err != nil {
			return nil, err
		}
		key = k
	} else if b, err := os.ReadFile(key); err == nil {
		key = strings.TrimSpace(string(b))
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("log verifier key: %w", err)
	}
	return v, nil
}

func auditVerifyCmd() *cobra.Command {
	var dir, logFile, key, storeURL string
	var checkpoints, witnessFlags []string
	var minCosig int
	c := &cobra.Command{
		Use:   "verify (--data DIR [--key VKEY] | --log FILE --checkpoint FILE... --key VKEY)",
		Short: "Recompute the audit tree and check it against stored hashes and signed checkpoints",
		Long: `With --data, verify reads the node's database: every leaf is rehashed and
compared with the stored tree, and every stored checkpoint's signature and
root are checked. With --log, it needs no database: the exported log is
rehashed and checked against the checkpoints given (each --checkpoint is a
signed note file kept from earlier). Exit status 0 means intact; otherwise
the error names the first bad entry's index.

With --min-cosignatures N, verify also requires a checkpoint cosigned by at
least N of the --witness witnesses (docs/AUDIT.md, "Witnesses"): with --data
the largest stored checkpoint that has them, with --log the checkpoint files
(which carry cosignature lines when saved from /api/v1/audit/checkpoint).
Each --witness is NAME=VERIFIERKEY, or a peer's NAME whose witness_key is in
DIR/peers.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var r audit.Report
			switch {
			case dir != "" && logFile == "":
				v, err := loadVerifier(key, dir)
				if err != nil {
					return err
				}
				st, err := openAuditStore(cmd, dir, storeURL)
				if err != nil {
					return err
				}
				defer st.Close()
				if r, err = audit.Verify(ctx, st, v); err != nil {
					return err
				}
				if minCosig > 0 {
					ws, err := namedWitnesses(dir, witnessFlags)
					if err != nil {
						return err
					}
					cp, names, err := audit.CosignedCheckpoint(ctx, st, v, ws, minCosig)
					if err != nil {
						return err
					}
					defer fmt.Fprintf(cmd.OutOrStdout(), "checkpoint at size %d cosigned by %d witnesses: %s\n", cp.Size, len(names), strings.Join(names, ", "))
				}
			case logFile != "" && dir == "":
				if key == "" {
					return errors.New("audit verify --log needs --key")
				}
				v, err := loadVerifier(key, "")
				if err != nil {
					return err
				}
				notes := make([][]byte, len(checkpoints))
				for i, p := range checkpoints {
					if notes[i], err = os.ReadFile(p); err != nil {
						return err
					}
				}
				f, err := os.Open(logFile)
				if err != nil {
					return err
				}
				defer f.Close()
				if r, err = audit.VerifyExport(ctx, f, notes, v); err != nil {
					return err
				}
				if minCosig > 0 {
					ws, err := namedWitnesses("", witnessFlags)
					if err != nil {
						return err
					}
					var best []string
					for _, n := range notes {
						if names := audit.Cosigners(n, ws); len(names) > len(best) {
							best = names
						}
					}
					if len(best) < minCosig {
						return fmt.Errorf("%w: need %d of %d named witnesses on one checkpoint, found at most %d", audit.ErrTooFewCosignatures, minCosig, len(ws), len(best))
					}
					defer fmt.Fprintf(cmd.OutOrStdout(), "a checkpoint is cosigned by %d witnesses: %s\n", len(best), strings.Join(best, ", "))
				}
			default:
				return errors.New("audit verify: give --data DIR, or --log FILE with --checkpoint and --key")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries, %d signed checkpoints matched, root %x\n", r.Size, r.Checkpoints, r.Root)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "node data directory")
	c.Flags().StringVar(&logFile, "log", "", "exported log (from 'tearline audit export')")
	c.Flags().StringArrayVar(&checkpoints, "checkpoint", nil, "signed checkpoint file (repeatable)")
	c.Flags().StringVar(&key, "key", "", "log verifier key, or a file holding it (default DIR/"+datadir.LogPubKey+")")
	c.Flags().StringArrayVar(&witnessFlags, "witness", nil, "a witness whose cosignatures count: NAME=VERIFIERKEY, or a peer's NAME (its witness_key in DIR/peers.yaml); repeatable")
	c.Flags().IntVar(&minCosig, "min-cosignatures", 0, "require a checkpoint cosigned by at least N of the --witness witnesses")
	addStoreFlag(c, &storeURL)
	return c
}

// namedWitnesses resolves --witness flags: NAME=VKEY, or a peer's NAME
// whose witness key peers.yaml in dir holds.
func namedWitnesses(dir string, flags []string) ([]audit.NamedWitness, error) {
	if len(flags) == 0 {
		return nil, errors.New("audit verify: --min-cosignatures needs --witness NAME[=VERIFIERKEY]")
	}
	var peers []node.Peer
	var out []audit.NamedWitness
	for _, f := range flags {
		name, vkey, ok := strings.Cut(f, "=")
		if !ok {
			if dir == "" {
				return nil, fmt.Errorf("--witness %s: give NAME=VERIFIERKEY (no --data to find the peer in)", f)
			}
			if peers == nil {
				ps, err := trust.LoadPeers(dir)
				if err != nil {
					return nil, err
				}
				peers = append(ps, node.Peer{})
			}
			for _, p := range peers {
				if p.Name == name {
					vkey = p.WitnessKey
				}
			}
			if vkey == "" {
				return nil, fmt.Errorf("--witness %s: no peer of that name with a witness_key in %s", name, node.PeersFile)
			}
		}
		v, err := fnote.NewVerifierForCosignatureV1(vkey)
		if err != nil {
			return nil, fmt.Errorf("--witness %s: %w", name, err)
		}
		out = append(out, audit.NamedWitness{Name: name, Verifier: v})
	}
	return out, nil
}

func auditExportCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "export --data DIR > FILE",
		Short: "Write the audit log as JSON lines of {index, base64 leaf}",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openAuditStore(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer st.Close()
			return audit.Export(cmd.Context(), st, cmd.OutOrStdout(), -1)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "node data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func auditCheckpointCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "checkpoint --data DIR",
		Short: "Print the latest signed checkpoint, signing one if the log has grown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := stack.Open(cmd.Context(), dir, node.Options{OpenStore: backend.Opener(resolveStore(storeURL))})
			if err != nil {
				return err
			}
			defer n.Close()
			cp, err := n.Oversight.SignAuditCheckpoint(cmd.Context())
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(cp.Note)
			return err
		},
	}
	c.Flags().StringVar(&dir, "data", "", "node data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func auditKeyCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "key --data DIR",
		Short: "Print the audit log's verifier key, for oversight bodies and witnesses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := datadir.ReadLogVerifierKey(dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), k)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "node data directory (required)")
	_ = c.MarkFlagRequired("data")
	return c
}
