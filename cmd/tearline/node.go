package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/tearline/tearline/admin"
	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/internal/gctune"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/inbox"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/retention"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

func initCmd() *cobra.Command {
	var dir, caCert, caKey, storeURL string
	var o node.InitOptions
	c := &cobra.Command{
		Use:   "init --data DIR [--name NAME] [--country CCC] [--org ORG] [--ca-cert FILE --ca-key FILE [--host H]...]",
		Short: "Make a new node in DIR (absent or empty)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.CreateStore = backend.Creator(resolveStore(storeURL))
			if caCert != "" {
				ca, err := loadCAFiles(caCert, caKey)
				if err != nil {
					return fmt.Errorf("init: %w", err)
				}
				o.CA = ca
			}
			if err := node.Init(cmd.Context(), dir, o); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "initialised node in %s\n", dir)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&o.Name, "name", "", "node name (default \"tearline\")")
	c.Flags().StringVar(&o.Country, "country", "", "node country, ISO 3166 alpha-3 (default GBR)")
	c.Flags().StringVar(&o.Org, "org", "", "owning organisation")
	c.Flags().StringVar(&caCert, "ca-cert", "", "alliance CA certificate: issue the node's TLS certificate from it and trust it (with --ca-key)")
	c.Flags().StringVar(&caKey, "ca-key", "", "alliance CA key (with --ca-cert)")
	c.Flags().StringSliceVar(&o.Hosts, "host", nil, "extra DNS name or IP address for a CA-issued certificate (repeatable)")
	c.MarkFlagsRequiredTogether("ca-cert", "ca-key")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func serveCmd() *cobra.Command {
	var dir, listen, config, storeURL, metricsListen string
	var checkpointEvery, pullEvery, outboxPoll, witnessEvery time.Duration
	c := &cobra.Command{
		Use:   "serve --data DIR [--listen HOST:PORT] [--config FILE] [--pull-interval D] [--outbox-poll D]",
		Short: "Serve the node's HTTPS API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			gc := gctune.Plan(os.Getenv, os.ReadFile)
			gctune.Apply(gc)
			log.Info("garbage collector", "settings", gc.Note)
			storeURL = resolveStore(storeURL)
			if _, err := os.Stat(dir + "/" + node.ConfigFile); errors.Is(err, os.ErrNotExist) {
				// serve needs no setup: an empty directory becomes a node with defaults.
				if err := node.Init(ctx, dir, node.InitOptions{CreateStore: backend.Creator(storeURL)}); err != nil {
					return err
				}
				// Said plainly, not only logged: a mistyped --data makes a new,
				// empty node, and the operator must see that at once.
				abs, _ := filepath.Abs(dir)
				made, err := node.LoadConfig(filepath.Join(dir, node.ConfigFile))
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "tearline serve: there was no node in %s, so a new one was made there with defaults (name %q, country %s); if you meant to serve an existing node, stop this one and check --data\n", abs, made.Name, made.Country)
				log.Info("initialised a new node with defaults", "data", abs)
			}
			// The serving registry: on SQLite, DIR's lock, taken before the
			// database is opened, so a second serve changes nothing; on
			// PostgreSQL, a row of the store's servers table, after the open
			// (which runs the migrations: they wait for no older replica).
			var reg *datadir.Registration
			var err error
			if storeURL == "" {
				reg, err = datadir.Register(ctx, dir, nil, datadir.NewServer("serve", version(), 0), false, log)
				if err != nil {
					return fmt.Errorf("serve: %w", err)
				}
			}
			n, err := stack.Open(ctx, dir, node.Options{ConfigPath: config, Logger: log, OpenStore: backend.Opener(storeURL)})
			if err != nil {
				if reg != nil {
					reg.Close()
				}
				return err
			}
			defer n.Close()
			if reg == nil {
				if reg, err = n.Register(ctx, "serve", version(), false); err != nil {
					return fmt.Errorf("serve: %w", err)
				}
			}
			defer reg.Close()
			if listen == "" {
				listen = n.Config().Listen
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			// The admin socket: commands carried out by the running node
			// (purge) reach it here, never on the public listener.
			adminFile := datadir.AdminSocket(dir, reg.Self())
			if aln, err := admin.Listen(adminFile); err != nil {
				// Serving matters more than the socket (a DIR path too long
				// for a socket name, say): without it, purge says so.
				log.Error("admin socket: serving without it (purge on this node is refused until it has one)", "err", err)
				adminFile = ""
			} else {
				go func() {
					if err := admin.Serve(ctx, aln, admin.Handler(consoleNode{n}, func(err error) bool { return errors.Is(err, node.ErrNotFound) }, log), log); err != nil {
						log.Error("admin socket", "err", err)
					}
				}()
			}
			if err := reg.Update(ctx, ln.Addr().String(), adminFile); err != nil {
				ln.Close()
				return fmt.Errorf("serve: %w", err)
			}
			go n.Oversight.RunAuditCheckpoints(ctx, checkpointEvery)
			go n.Oversight.RunAuditIndex(ctx, oversight.DefaultAuditIndexInterval)   // keeps auditors' searches from indexing a backlog
			go n.Retention.Run(ctx, retention.DefaultRetentionInterval)              // purges objects whose retention passed
			go n.Deliveries.RunOutbox(ctx, delivery.OutboxOptions{Poll: outboxPoll}) // delivers releases to partners (federation_send.go)
			go n.Inbox.RunPull(ctx, pullEvery, inbox.PullOptions{})                  // pulls partners' collections, when asked (pull.go)
			go n.Oversight.RunWitnessing(ctx, witnessEvery)                          // asks witnesses to cosign, compares notes (witness.go)
			go n.Followups().Run(ctx, node.DefaultFollowupPoll)                      // resumes follow-up work a crash left (followup.go)
			if !cmd.Flags().Changed("metrics-listen") {
				metricsListen = n.Config().MetricsListen
			}
			metrics := prometheus.NewRegistry()
			mln, err := listenMetrics(metricsListen, log)
			if err != nil {
				return err
			}
			if mln != nil {
				go func() {
					if err := api.ServeMetrics(ctx, metrics, mln, log); err != nil {
						log.Error("metrics listener stopped", "err", err)
					}
				}()
			}
			log.Info("serving", "node", n.Config().Name, "url", "https://"+ln.Addr().String())
			opts, err := uiOptions(n, log)
			if err != nil {
				return err
			}
			log.Info("web interface", "url", "https://"+ln.Addr().String()+"/ui/")
			return api.Serve(ctx, n, ln, log, append(opts, api.WithRegistry(metrics))...)
		},
	}
	c.Flags().StringVar(&metricsListen, "metrics-listen", "", "HOST:PORT for Prometheus metrics over plain HTTP, or off (default metrics_listen from config, else "+datadir.DefaultMetricsListen+" when free)")
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&listen, "listen", "", "HOST:PORT to listen on (default from config, 127.0.0.1:8443)")
	c.Flags().StringVar(&config, "config", "", "configuration file overriding DIR/tearline.yaml")
	addStoreFlag(c, &storeURL)
	c.Flags().DurationVar(&checkpointEvery, "checkpoint-interval", node.DefaultCheckpointInterval, "how often to sign an audit checkpoint when the log has grown")
	c.Flags().DurationVar(&witnessEvery, "witness-interval", oversight.DefaultWitnessInterval, "how often to ask witnesses to cosign and to compare notes with partners (also after each checkpoint)")
	c.Flags().DurationVar(&pullEvery, "pull-interval", 0, "pull every peer with a url this often (0: never; 'peer pull' pulls once)")
	c.Flags().DurationVar(&outboxPoll, "outbox-poll", federation.DefaultOutboxPoll, "how often the outbox looks for releases committed by other processes (in-process commits wake it at once; negative: never)")
	_ = c.MarkFlagRequired("data")
	return c
}

// storeEnv names the environment variable that --store defaults to.
const storeEnv = "TEARLINE_STORE"

// addStoreFlag adds --store, the database of the node in --data, to c.
func addStoreFlag(c *cobra.Command, p *string) {
	// The environment is read when the command runs (resolveStore), not
	// here as the flag's default: --help would print it, password and all.
	c.Flags().StringVar(p, "store", "", "database URL, postgres://USER:PASSWORD@HOST:PORT/DB (default $"+storeEnv+"; none: SQLite in DIR)")
}

// resolveStore returns the --store value, else $TEARLINE_STORE.
func resolveStore(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(storeEnv)
}

// consoleNode is the node as the admin socket drives it: as the operator at
// the console (node.ConsoleAdmin), since only the node's owner can reach
// the socket (mode 0600 in DIR). Every request on it comes from the CLI,
// which names the console as its actor.
type consoleNode struct{ n *stack.Node }

func (c consoleNode) Purge(ctx context.Context, req admin.PurgeRequest) ([]string, error) {
	return c.n.Purge(ctx, node.ConsoleAdmin(), purgeTarget(req))
}

// purgeTarget is what a purge request selects.
func purgeTarget(req admin.PurgeRequest) node.PurgeTarget {
	return node.PurgeTarget{ID: req.ID, Instances: req.Instances, Versions: req.Versions, Reason: req.Reason}
}

// listenMetrics opens the metrics listener: none for "off"; for "" the
// default loopback address if it is free (several nodes on one machine
// each try it; the first takes it and the others say so); an address the
// operator named must be had, or serve stops and says why.
func listenMetrics(addr string, log *slog.Logger) (net.Listener, error) {
	switch addr {
	case "off":
		log.Info("metrics not served (metrics_listen: off)")
		return nil, nil
	case "":
		ln, err := net.Listen("tcp", datadir.DefaultMetricsListen)
		if err != nil {
			log.Warn("metrics not served: the default address is taken; set metrics_listen in tearline.yaml (or --metrics-listen)", "addr", datadir.DefaultMetricsListen, "err", err)
			return nil, nil
		}
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return ln, nil
}
