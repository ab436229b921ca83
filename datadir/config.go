package datadir

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/label"
)

// Config is a node's configuration. `init` writes it with defaults; an
// operator edits it, or points serve at another file with --config.
type Config struct {
	Name     string `yaml:"name"`
	Country  string `yaml:"country"` // ISO 3166 alpha-3
	Org      string `yaml:"org"`
	Identity string `yaml:"identity"` // the node's STIX identity id
	Listen   string `yaml:"listen"`
	// TokenTTL is how long a new API token lives unless told otherwise.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// TokenMaxTTL bounds every token's lifetime, whoever asks for it
	// (default 90 days): a token lives at least a moment and at most this.
	TokenMaxTTL time.Duration `yaml:"token_max_ttl"`
	// MetricsListen is where Prometheus metrics are served, over plain
	// HTTP and never on the public listener: HOST:PORT, or "off". Unset
	// means DefaultMetricsListen (loopback), taken only if free.
	MetricsListen string `yaml:"metrics_listen,omitempty"`
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64        `yaml:"max_body_bytes"`
	Labels       label.Config `yaml:"labels"`
	// AutoRelease sends each newly ingested or received object to every
	// partner whose agreement releases automatically.
	// Unset means on; `auto_release: false` leaves releases to people.
	AutoRelease *bool `yaml:"auto_release,omitempty"`
	// DeliveryMaxAge is how long a message to a partner is retried after
	// transient failures (network, 5xx, a key the partner has not loaded
	// yet) before it fails for good (docs/FEDERATION.md, "Delivery
	// states"). Unset: 24h.
	DeliveryMaxAge time.Duration `yaml:"delivery_max_age,omitempty"`
	// UI is the web interface's session policy (docs/UI.md).
	UI UIConfig `yaml:"ui,omitempty"`
}

// UIConfig bounds web sessions and password guessing. Zero fields take
// the defaults Defaults fills in.
type UIConfig struct {
	// IdleTimeout ends a session unused this long (default 15m).
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
	// SessionLifetime ends a session this long after login, however
	// busy (default 12h).
	SessionLifetime time.Duration `yaml:"session_lifetime,omitempty"`
	// LockoutFailures consecutive failed logins lock the account (default 5)
	// for LockoutDuration (default 15m).
	LockoutFailures int           `yaml:"lockout_failures,omitempty"`
	LockoutDuration time.Duration `yaml:"lockout_duration,omitempty"`
}

// AutoReleaseOn reports whether automatic release on ingest is on (the
// default).
func (c Config) AutoReleaseOn() bool { return c.AutoRelease == nil || *c.AutoRelease }

var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,62}$`)
var countryCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidNodeName reports whether s is a node name: lower-case letters,
// digits, dots and hyphens, at most 63.
func ValidNodeName(s string) bool { return nodeName.MatchString(s) }

// ValidCountry reports whether s is an upper-case ISO 3166 alpha-3 code.
func ValidCountry(s string) bool { return countryCode.MatchString(s) }

// Defaults fills in what the configuration leaves unset.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8443"
	}
	if c.TokenMaxTTL == 0 {
		c.TokenMaxTTL = DefaultTokenMaxTTL
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = min(90*24*time.Hour, c.TokenMaxTTL)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 20
	}
	if c.UI.IdleTimeout == 0 {
		c.UI.IdleTimeout = 15 * time.Minute
	}
	if c.UI.SessionLifetime == 0 {
		c.UI.SessionLifetime = 12 * time.Hour
	}
	if c.UI.LockoutFailures == 0 {
		c.UI.LockoutFailures = 5
	}
	if c.UI.LockoutDuration == 0 {
		c.UI.LockoutDuration = 15 * time.Minute
	}
	if len(c.Labels.Policies) == 0 {
		c.Labels = label.DefaultConfig(c.Country)
	}
}

// Validate checks the fields every node needs.
func (c *Config) Validate() error {
	if !nodeName.MatchString(c.Name) {
		return fmt.Errorf("config: name %q: want lower-case letters, digits, dots and hyphens", c.Name)
	}
	if !countryCode.MatchString(c.Country) {
		return fmt.Errorf("config: country %q: want an ISO 3166 alpha-3 code such as GBR", c.Country)
	}
	if c.Identity == "" {
		return fmt.Errorf("config: identity is missing")
	}
	if c.TokenMaxTTL <= 0 {
		return fmt.Errorf("config: token_max_ttl %s: want a positive duration such as 2160h (90 days)", c.TokenMaxTTL)
	}
	if c.TokenTTL <= 0 || c.TokenTTL > c.TokenMaxTTL {
		return fmt.Errorf("config: token_ttl %s: want a positive duration up to token_max_ttl (%s)", c.TokenTTL, c.TokenMaxTTL)
	}
	if c.UI.IdleTimeout < 0 || c.UI.SessionLifetime < 0 || c.UI.LockoutFailures < 0 || c.UI.LockoutDuration < 0 {
		return fmt.Errorf("config: ui: idle_timeout, session_lifetime, lockout_failures and lockout_duration must not be negative")
	}
	if c.DeliveryMaxAge < 0 {
		return fmt.Errorf("config: delivery_max_age %s: want a positive duration such as 24h", c.DeliveryMaxAge)
	}
	return nil
}

// DefaultTokenMaxTTL is the longest a token lives unless token_max_ttl
// says otherwise.
const DefaultTokenMaxTTL = 90 * 24 * time.Hour

// DefaultMetricsListen is where metrics are served when metrics_listen is
// unset: loopback only, the port Prometheus's exporter registry lists
// for none in particular (9464, as OpenTelemetry's Prometheus exporter).
const DefaultMetricsListen = "127.0.0.1:9464"

// LoadConfig reads a YAML config file and fills in defaults.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WriteConfig writes a configuration file.
func WriteConfig(path string, c Config) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	header := "# Tearline node configuration. Edit and restart `tearline serve`.\n"
	return AtomicWrite(path, append([]byte(header), b...), 0o600)
}
