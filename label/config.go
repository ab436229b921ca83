package label

import "strings"

// Config is the label part of the node configuration.
type Config struct {
	Policies    []PolicyConfig      `yaml:"policies" json:"policies"`
	Groups      map[string][]string `yaml:"groups" json:"groups"`           // group name → member country codes (no nesting)
	Caveats     []string            `yaml:"caveats" json:"caveats"`         // known caveats
	Disciplines []string            `yaml:"disciplines" json:"disciplines"` // known intelligence disciplines
	Topics      []string            `yaml:"topics" json:"topics"`           // known topics
	// SystemHigh is the banner of a page whose contents no single label
	// dominates (labels of different policies, releasability sets that do
	// not intersect); SystemLow the banner of a page that shows no
	// intelligence (docs/UI.md). Unset: the highest and the lowest level
	// of the first policy.
	SystemHigh string `yaml:"system_high,omitempty" json:"system_high,omitempty"`
	SystemLow  string `yaml:"system_low,omitempty" json:"system_low,omitempty"`
}

// PolicyConfig describes one classification policy (the 4774 PolicyIdentifier
// and the hierarchy part of its SPIF).
type PolicyConfig struct {
	Name     string        `yaml:"name" json:"name"`
	Levels   []LevelConfig `yaml:"levels" json:"levels"`     // lowest first
	Audience []string      `yaml:"audience" json:"audience"` // countries or groups who may hold material under this policy
	// Owner is the country whose national policy this is, or "" for a
	// multinational policy. Labels under an owned policy always carry
	// Originator == Owner, so that two nations' "NATIONAL SECRET" labels get
	// different ids and a node never reads a foreign national label as its own.
	Owner string `yaml:"owner,omitempty" json:"owner,omitempty"`
}

// LevelConfig is one classification level of a policy.
type LevelConfig struct {
	Name   string `yaml:"name" json:"name"`     // e.g. "SECRET"
	Banner string `yaml:"banner" json:"banner"` // e.g. "NATO SECRET"; unique across the registry
	// Portion is the level's abbreviation in portion marks, e.g. "NS"
	// (Registry.Portion); unset: the initials of Banner.
	Portion string `yaml:"portion,omitempty" json:"portion,omitempty"`
	// Colour is the banner's background, "#rrggbb"; unset: by rank
	// (Registry.Colour).
	Colour string `yaml:"colour,omitempty" json:"colour,omitempty"`
}

// Names of the policies DefaultConfig ships.
const (
	PolicyNATO     = "NATO"
	PolicyNational = "NATIONAL"
)

// NATOMembers are the 32 NATO member states (since Sweden's accession on
// 7 March 2024), ISO 3166-1 alpha-3, sorted.
func NATOMembers() []string {
	return []string{
		"ALB", "BEL", "BGR", "CAN", "CZE", "DEU", "DNK", "ESP",
		"EST", "FIN", "FRA", "GBR", "GRC", "HRV", "HUN", "ISL",
		"ITA", "LTU", "LUX", "LVA", "MKD", "MNE", "NLD", "NOR",
		"POL", "PRT", "ROU", "SVK", "SVN", "SWE", "TUR", "USA",
	}
}

// DefaultConfig is the label configuration a node ships with. country is the
// node's nation (ISO 3166 alpha-3); it owns the NATIONAL policy and prefixes
// its banners ("GBR SECRET"), so national banners never collide with NATO's.
// An empty country yields a config that NewRegistry refuses.
func DefaultConfig(country string) Config {
	c := strings.ToUpper(strings.TrimSpace(country))
	return Config{
		Policies: []PolicyConfig{
			{
				Name: PolicyNATO,
				Levels: []LevelConfig{
					{Name: "UNCLASSIFIED", Banner: "NATO UNCLASSIFIED", Portion: "NU"},
					{Name: "RESTRICTED", Banner: "NATO RESTRICTED", Portion: "NR"},
					{Name: "CONFIDENTIAL", Banner: "NATO CONFIDENTIAL", Portion: "NC"},
					{Name: "SECRET", Banner: "NATO SECRET", Portion: "NS"},
					{Name: "TOP-SECRET", Banner: "COSMIC TOP SECRET", Portion: "CTS"},
				},
				Audience: []string{"NATO"},
			},
			{
				Name: PolicyNational,
				Levels: []LevelConfig{
					{Name: "OFFICIAL", Banner: c + " OFFICIAL", Portion: c + " O"},
					{Name: "RESTRICTED", Banner: c + " RESTRICTED", Portion: c + " R"},
					{Name: "CONFIDENTIAL", Banner: c + " CONFIDENTIAL", Portion: c + " C"},
					{Name: "SECRET", Banner: c + " SECRET", Portion: c + " S"},
					{Name: "TOP-SECRET", Banner: c + " TOP SECRET", Portion: c + " TS"},
				},
				Audience: []string{c},
				Owner:    c,
			},
		},
		Groups: map[string][]string{
			"FVEY": {"AUS", "CAN", "GBR", "NZL", "USA"},
			"NATO": NATOMembers(),
		},
		Caveats: []string{CaveatNOFORN, CaveatORCON},
		Disciplines: []string{
			"CYBINT", "FININT", "GEOINT", "HUMINT", "IMINT",
			"MASINT", "OSINT", "SIGINT", "SOCMINT", "TECHINT",
		},
		Topics: []string{
			"COUNTER-INTELLIGENCE", "COUNTER-TERRORISM", "CYBER",
			"HYBRID-THREATS", "MILITARY", "ORGANISED-CRIME",
			"PROLIFERATION",
		},
	}
}
