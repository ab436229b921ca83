package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/partners"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/trust"
)

// Node identity commands (docs/FEDERATION.md): the alliance CA, a node's TLS
// certificate, its peers and its signing keys. They change files in the data
// directory; a running `serve` sees peer and revocation changes at the next
// handshake, and needs a restart for a new certificate or signing key.

// Files `ca init` writes.
const (
	caCertFile = "ca.pem"
	caKeyFile  = "ca-key.pem"
)

func caCmd() *cobra.Command {
	c := &cobra.Command{Use: "ca", Short: "A certificate authority for an alliance or agency (demos and tests; real deployments bring their own)"}
	c.AddCommand(caInitCmd(), caIssueCmd(), caSignCmd())
	return c
}

// writeNew writes file, refusing to replace one: CA keys and node keys are
// not overwritten by a slip of the command line.
func writeNew(file string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func caInitCmd() *cobra.Command {
	var out, name, org, country string
	var days int
	c := &cobra.Command{
		Use:   "init --out DIR [--name NAME] [--org ORG] [--country CCC] [--days N]",
		Short: "Make a CA: DIR/ca.pem (give it to every node) and DIR/ca-key.pem (keep it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ca, err := pki.NewCA(pki.Subject{Name: name, Org: org, Country: strings.ToUpper(country)}, time.Duration(days)*24*time.Hour, time.Now())
			if err != nil {
				return err
			}
			key, err := pki.MarshalKey(ca.Key)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			if err := writeNew(filepath.Join(out, caKeyFile), key, 0o600); err != nil {
				return fmt.Errorf("ca init: %w", err)
			}
			if err := writeNew(filepath.Join(out, caCertFile), pki.MarshalCert(ca.Cert), 0o644); err != nil {
				return fmt.Errorf("ca init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CA %q in %s (%s)\n", name, out, pki.Fingerprint(ca.Cert))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "directory for ca.pem and ca-key.pem (required)")
	c.Flags().StringVar(&name, "name", "Tearline Alliance CA", "the CA's name")
	c.Flags().StringVar(&org, "org", "", "the CA's organisation")
	c.Flags().StringVar(&country, "country", "", "the CA's country")
	c.Flags().IntVar(&days, "days", 3650, "validity in days")
	_ = c.MarkFlagRequired("out")
	return c
}

func loadCADir(dir string) (*pki.CA, error) {
	return loadCAFiles(filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile))
}

func loadCAFiles(certFile, keyFile string) (*pki.CA, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	return pki.LoadCA(cb, kb)
}

func caIssueCmd() *cobra.Command {
	var caDir, out, name, country, org string
	var hosts []string
	var days int
	c := &cobra.Command{
		Use:   "issue --ca DIR --name NODE --country CCC --out DIR [--org ORG] [--host H]...",
		Short: "Issue a key and certificate (DIR/cert.pem, DIR/key.pem) for a node or client outside a data directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ca, err := loadCADir(caDir)
			if err != nil {
				return fmt.Errorf("ca issue: %w", err)
			}
			k, err := pki.GenerateKey()
			if err != nil {
				return err
			}
			dns, ips := pki.DefaultHosts(name)
			d, i := pki.SplitHosts(hosts)
			now := time.Now()
			cert, err := ca.Issue(pki.Leaf{Subject: pki.Subject{Name: name, Country: strings.ToUpper(country), Org: org},
				DNSNames: append(dns, d...), IPs: append(ips, i...), NotAfter: now.Add(time.Duration(days) * 24 * time.Hour)}, k.Public(), now)
			if err != nil {
				return err
			}
			kb, err := pki.MarshalKey(k)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			if err := writeNew(filepath.Join(out, "key.pem"), kb, 0o600); err != nil {
				return fmt.Errorf("ca issue: %w", err)
			}
			if err := writeNew(filepath.Join(out, "cert.pem"), pki.MarshalCert(cert), 0o644); err != nil {
				return fmt.Errorf("ca issue: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "issued %s serial %s (%s)\n", name, pki.SerialHex(cert), pki.Fingerprint(cert))
			return nil
		},
	}
	c.Flags().StringVar(&caDir, "ca", "", "CA directory from 'ca init' (required)")
	c.Flags().StringVar(&out, "out", "", "directory for cert.pem and key.pem (required)")
	c.Flags().StringVar(&name, "name", "", "node name, the certificate's common name (required)")
	c.Flags().StringVar(&country, "country", "", "ISO 3166 alpha-3 country (required)")
	c.Flags().StringVar(&org, "org", "", "organisation")
	c.Flags().StringSliceVar(&hosts, "host", nil, "extra DNS name or IP address (repeatable)")
	c.Flags().IntVar(&days, "days", 397, "validity in days")
	for _, f := range []string{"ca", "out", "name", "country"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}

func caSignCmd() *cobra.Command {
	var caDir, csr, out string
	var days int
	c := &cobra.Command{
		Use:   "sign --ca DIR --csr FILE [--out FILE] [--days N]",
		Short: "Sign a node's certificate request (from `cert request`); the certificate goes to --out or stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ca, err := loadCADir(caDir)
			if err != nil {
				return fmt.Errorf("ca sign: %w", err)
			}
			req, err := os.ReadFile(csr)
			if err != nil {
				return err
			}
			now := time.Now()
			cert, err := ca.SignRequest(req, now.Add(time.Duration(days)*24*time.Hour), now)
			if err != nil {
				return fmt.Errorf("ca sign: %w", err)
			}
			return writeOut(cmd, out, pki.MarshalCert(cert))
		},
	}
	c.Flags().StringVar(&caDir, "ca", "", "CA directory from 'ca init' (required)")
	c.Flags().StringVar(&csr, "csr", "", "certificate request file (required)")
	c.Flags().StringVar(&out, "out", "", "certificate file (default stdout)")
	c.Flags().IntVar(&days, "days", 397, "validity in days")
	_ = c.MarkFlagRequired("ca")
	_ = c.MarkFlagRequired("csr")
	return c
}

func writeOut(cmd *cobra.Command, file string, data []byte) error {
	if file == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

func certCmd() *cobra.Command {
	c := &cobra.Command{Use: "cert", Short: "The node's TLS certificate and the certificates it refuses"}
	c.AddCommand(certRequestCmd(), certInstallCmd(), certRevokeCmd())
	return c
}

func certRequestCmd() *cobra.Command {
	var dir, out string
	var hosts []string
	c := &cobra.Command{
		Use:   "request --data DIR [--host H]... [--out FILE]",
		Short: "Write a certificate request for the node's TLS key, for the alliance CA to sign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := trust.CertRequest(dir, hosts)
			if err != nil {
				return err
			}
			return writeOut(cmd, out, b)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringSliceVar(&hosts, "host", nil, "DNS name or IP address partners reach the node at (repeatable)")
	c.Flags().StringVar(&out, "out", "", "request file (default stdout)")
	_ = c.MarkFlagRequired("data")
	return c
}

func certInstallCmd() *cobra.Command {
	var dir, certFile, caFile string
	c := &cobra.Command{
		Use:   "install --data DIR --cert FILE [--ca FILE]",
		Short: "Install the node's CA-issued TLS certificate; --ca adds the CA bundle to trust/ca.pem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cb, err := os.ReadFile(certFile)
			if err != nil {
				return err
			}
			var ca []byte
			if caFile != "" {
				if ca, err = os.ReadFile(caFile); err != nil {
					return err
				}
			}
			leaf, err := trust.InstallCert(dir, cb, ca, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s issued by %s (%s); restart serve to use it\n",
				leaf.Subject.CommonName, leaf.Issuer.CommonName, pki.Fingerprint(leaf))
			return recordChange(cmd, dir, audit.ActionCertChange, pki.Fingerprint(leaf), "install issuer="+leaf.Issuer.CommonName)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&certFile, "cert", "", "certificate file, leaf first (required)")
	c.Flags().StringVar(&caFile, "ca", "", "CA bundle to trust")
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("cert")
	return c
}

func certRevokeCmd() *cobra.Command {
	var dir, certFile, reason string
	c := &cobra.Command{
		Use:   "revoke --data DIR --cert FILE [--reason TEXT]",
		Short: "Refuse a certificate in the TLS handshake from now on (trust/revoked.yaml)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := os.ReadFile(certFile)
			if err != nil {
				return err
			}
			cert, err := pki.ParseCert(b)
			if err != nil {
				return err
			}
			if err := trust.RevokeCert(dir, cert, reason, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s serial %s\n", cert.Subject.CommonName, pki.SerialHex(cert))
			return recordChange(cmd, dir, audit.ActionCertChange, pki.Fingerprint(cert), "revoke "+cert.Subject.CommonName+" reason="+reason)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&certFile, "cert", "", "certificate file (required)")
	c.Flags().StringVar(&reason, "reason", "", "why, for the record")
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("cert")
	return c
}

func identityCmd() *cobra.Command {
	var dir, u string
	c := &cobra.Command{
		Use:   "identity --data DIR [--url https://HOST:PORT]",
		Short: "Print what a partner needs to add this node as a peer (YAML; `peer add --identity` reads it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := node.ReadIdentity(dir)
			if err != nil {
				return err
			}
			if u != "" {
				// The listen address is often not what partners reach
				// (a proxy, a public name), so the URL is the operator's word.
				if err := trust.CheckPeerURL(u); err != nil {
					return err
				}
				id.URL = u
			}
			b, err := yaml.Marshal(id)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&u, "url", "", "where partners reach this node, https://HOST:PORT (recorded by their 'peer add --identity')")
	_ = c.MarkFlagRequired("data")
	return c
}

func peerCmd() *cobra.Command {
	c := &cobra.Command{Use: "peer", Short: "Partner nodes: who may call partner routes, and whose bindings verify"}
	c.AddCommand(peerAddCmd(), peerListCmd(), peerRemoveCmd(), peerPullCmd(), peerAckSplitCmd()) // peerPullCmd: pull.go
	return c
}

func peerAddCmd() *cobra.Command {
	var dir, certFile, idFile string
	var s trust.PeerSpec
	c := &cobra.Command{
		Use:   "add --data DIR (--identity FILE | --name NAME --cert FILE --signing-key ed25519:...) [--country CCC] [--org ORG] [--url https://HOST:PORT]",
		Short: "Add a partner node by its TLS certificate and signing key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if idFile != "" {
				var b []byte
				if b, err = os.ReadFile(idFile); err == nil {
					s, err = partners.FromIdentity(b, s)
				}
			} else if s.CertPEM, err = os.ReadFile(certFile); err != nil {
				err = fmt.Errorf("peer add: give --identity FILE, or --cert FILE and --signing-key: %w", err)
			}
			if err != nil {
				return err
			}
			n, err := openNode(cmd, dir, "")
			if err != nil {
				return err
			}
			defer n.Close()
			p, err := n.Partners.AddPeer(cmd.Context(), node.ConsoleAdmin(), s)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added peer %s (%s) %s\n", p.Name, p.Country, p.Fingerprint)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&idFile, "identity", "", "the partner's 'tearline identity' output")
	c.Flags().StringVar(&s.Name, "name", "", "the partner's node name (default: the certificate's common name)")
	c.Flags().StringVar(&certFile, "cert", "", "the partner's TLS certificate (PEM)")
	c.Flags().StringVar(&s.SigningKey, "signing-key", "", "the partner's Ed25519 public key, ed25519:<base64>")
	c.Flags().StringVar(&s.Country, "country", "", "the partner's country (default: the certificate's)")
	c.Flags().StringVar(&s.Org, "org", "", "the partner's organisation (default: the certificate's)")
	c.Flags().StringVar(&s.URL, "url", "", "where the partner serves, https://HOST:PORT: the outbox delivers there and pull reads its TAXII (default: the identity's url)")
	c.Flags().StringVar(&s.LogKey, "log-key", "", "the partner's audit log verifier key: this node witnesses its log (default: the identity's log_key)")
	c.Flags().StringVar(&s.WitnessKey, "witness-key", "", "the partner's cosignature verifier key (default: the identity's witness_key)")
	c.Flags().BoolVar(&s.Witness, "witness", false, "ask the partner to cosign this node's audit log (docs/AUDIT.md, Witnesses)")
	_ = c.MarkFlagRequired("data")
	return c
}

func peerAckSplitCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "ack-split PEER --data DIR",
		Short: "Acknowledge a split view of a partner's audit log: deliveries to it resume",
		Long: `A split view (docs/AUDIT.md) pauses deliveries to the partner whose log showed
two different trees. After looking into it (tearline audit split-views), an
admin acknowledges it here. Safe on a serving node: the state is in the store,
and the delivery loop of every replica picks it up at its next round.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			count, err := n.Oversight.AckSplitView(cmd.Context(), node.ConsoleAdmin(), args[0])
			if err != nil {
				return err
			}
			if count == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no open split view of %s\n", args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "acknowledged %d split view(s) of %s: deliveries resume\n", count, args[0])
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func peerListCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List partner nodes with their certificates and signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			peers, err := trust.LoadPeers(dir)
			if err != nil {
				return err
			}
			ring, err := node.LoadKeyring(dir)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tCOUNTRY\tORG\tURL\tCERT\tCERT EXPIRES\tSIGNING KEYS")
			for _, p := range peers {
				var keys []string
				for _, k := range ring.Keys() {
					if k.Node == p.Name {
						keys = append(keys, keyState(k))
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Country, p.Org, cmp.Or(p.URL, "-"), p.Fingerprint,
					p.Cert().NotAfter.UTC().Format(time.RFC3339), strings.Join(keys, ", "))
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	_ = c.MarkFlagRequired("data")
	return c
}

func keyState(k binding.Key) string {
	s := k.KeyID
	if !k.NotAfter.IsZero() {
		s += " until " + k.NotAfter.UTC().Format(time.RFC3339)
	}
	if !k.RevokedAt.IsZero() {
		s += " revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
	}
	return s
}

func peerRemoveCmd() *cobra.Command {
	var dir, name string
	c := &cobra.Command{
		Use:   "remove --data DIR --name NAME",
		Short: "Remove a partner: its certificate no longer admits it (its signing keys stay, so its past bindings verify)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd, dir, "")
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.Partners.RemovePeer(cmd.Context(), node.ConsoleAdmin(), name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed peer %s\n", name)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&name, "name", "", "peer name (required)")
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("name")
	return c
}

// addFederationCmds adds the identity commands to root. `key` is shared with
// the key-encryption key's commands (storage.go): the signing-key commands
// join it if it exists.
func addFederationCmds(root *cobra.Command) {
	root.AddCommand(caCmd(), certCmd(), peerCmd(), identityCmd())
	var key *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "key" {
			key = c
		}
	}
	if key == nil {
		key = &cobra.Command{Use: "key", Short: "Manage the node's keys"}
		root.AddCommand(key)
	}
	key.Short += "; Ed25519 signing keys: rotate, revoke, list"
	key.AddCommand(keyRotateCmd(), keyRevokeCmd(), keyListCmd())
}

func keyRotateCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "rotate --data DIR",
		Short: "Give the node a new signing key; the old one stays in the keyring until now, so its bindings still verify",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := datadir.RotateSigningKey(dir, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "retired %s (valid until %s)\n", r.Old, r.At.Format(time.RFC3339))
			fmt.Fprintf(out, "new signing key %s; a serving node signs with it from its next binding on. Give partners the new key:\n", r.New)
			fmt.Fprintln(out, r.NewPublic)
			return recordChange(cmd, dir, audit.ActionSigningKeyRotate, r.New, "retired="+r.Old)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	_ = c.MarkFlagRequired("data")
	return c
}

func keyRevokeCmd() *cobra.Command {
	var dir, keyID, at string
	c := &cobra.Command{
		Use:   "revoke --data DIR --key-id ID [--at TIME]",
		Short: "Refuse bindings a key made at or after TIME (RFC 3339; default now); earlier ones still verify",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd, dir, "")
			if err != nil {
				return err
			}
			defer n.Close()
			k, err := n.Partners.RevokeKey(cmd.Context(), node.ConsoleAdmin(), keyID, at)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s of %s from %s\n", k.KeyID, k.Node, k.RevokedAt.UTC().Format(time.RFC3339Nano))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&keyID, "key-id", "", "key id, ed25519:<hex> (required)")
	c.Flags().StringVar(&at, "at", "", "revocation time, RFC 3339 (default now)")
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("key-id")
	return c
}

func keyListCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List the keys this node verifies bindings with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ring, err := node.LoadKeyring(dir)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NODE\tKEY ID\tNOT BEFORE\tNOT AFTER\tREVOKED AT")
			for _, k := range ring.Keys() {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.Node, k.KeyID, stamp(k.NotBefore), stamp(k.NotAfter), stamp(k.RevokedAt))
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	_ = c.MarkFlagRequired("data")
	return c
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
