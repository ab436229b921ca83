package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
)

// The federation scenario: GBR shares with the USA, France and a GBR
// agency under three agreements that differ on purpose, so that one object
// reaches the USA whole, France as a tearline and the agency not at all.

// ScenarioMembers are the nodes of the scenario.
func ScenarioMembers() []MemberSpec {
	return []MemberSpec{
		{Name: "gbr", Country: "GBR", Org: "GBR defence intelligence"},
		{Name: "usa", Country: "USA", Org: "USA defense intelligence"},
		{Name: "fra", Country: "FRA", Org: "FRA renseignement militaire"},
		{Name: "agency", Country: "GBR", Org: "GBR crime agency"},
	}
}

func level(policy, owner, lv string) agreement.Level {
	return agreement.Level{Policy: policy, Owner: owner, Level: lv}
}

// equivalence is NATO beside the national schemes of owners, rows lowest first.
func equivalence(owners ...string) []agreement.Equivalence {
	var rows []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		row := agreement.Equivalence{Name: p[0], Levels: []agreement.Level{level("NATO", "", p[0])}}
		for _, o := range owners {
			row.Levels = append(row.Levels, level("NATIONAL", o, p[1]))
		}
		rows = append(rows, row)
	}
	return rows
}

// ScenarioAgreements returns the scenario's agreements, parties filled in
// from c:
//
//   - gbr-usa: CYBER and COUNTER-TERRORISM, OSINT and SIGINT, up to NATO
//     SECRET, automatic release;
//   - gbr-fra: the same scope, but releases above NATO CONFIDENTIAL need two
//     releasers; what is marked REL TO GBR, USA cannot go;
//   - gbr-agency: COUNTER-TERRORISM and ORGANISED-CRIME only, up to NATO
//     RESTRICTED: nothing about CYBER.
func ScenarioAgreements(c *Cluster) ([]*agreement.Document, error) {
	mk := func(id, title, other string, t agreement.Terms, owners ...string) (*agreement.Document, error) {
		if c.Member(other) == nil {
			return nil, nil // a smaller cluster: no agreement with a member it lacks
		}
		d := &agreement.Document{ID: id, Title: title, Version: 1, Effective: "2020-01-01T00:00:00Z", Expires: "2100-01-01T00:00:00Z",
			Equivalence: equivalence(owners...)}
		for _, name := range []string{"gbr", other} {
			p, err := c.PartyOf(name)
			if err != nil {
				return nil, err
			}
			d.Parties = append(d.Parties, p)
		}
		t.From, t.To = []string{"gbr", other}, []string{"gbr", other}
		d.Terms = []agreement.Terms{t}
		return d, nil
	}
	base := func() agreement.Terms {
		return agreement.Terms{
			Topics: []string{"CYBER", "COUNTER-TERRORISM"}, Disciplines: []string{"OSINT", "SIGINT"},
			MaxClassification: level("NATO", "", "SECRET"), Purposes: []string{"analysis"}, RetentionDays: 365,
			Onward: agreement.OnwardParties, Release: agreement.Release{Mode: agreement.ModeAutomatic},
		}
	}
	usa, err := mk("gbr-usa", "GBR-USA cyber sharing", "usa", base(), "GBR", "USA")
	if err != nil {
		return nil, err
	}
	ft := base()
	above := level("NATO", "", "CONFIDENTIAL")
	ft.Release = agreement.Release{Mode: agreement.ModeTwo, Above: &above}
	fra, err := mk("gbr-fra", "GBR-FRA cyber sharing", "fra", ft, "GBR", "FRA")
	if err != nil {
		return nil, err
	}
	at := base()
	at.Topics, at.Disciplines = []string{"COUNTER-TERRORISM", "ORGANISED-CRIME"}, []string{"OSINT", "HUMINT"}
	at.MaxClassification = level("NATO", "", "RESTRICTED")
	agency, err := mk("gbr-agency", "GBR agency counter-terrorism", "agency", at, "GBR")
	if err != nil {
		return nil, err
	}
	var out []*agreement.Document
	for _, d := range []*agreement.Document{usa, fra, agency} {
		if d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// Labelled is a STIX object to publish with its labels.
type Labelled struct {
	Object map[string]any
	Banner string            // the whole object's label
	Parts  map[string]string // selector -> stricter label
}

// Bundle returns the object as a STIX bundle carrying its labels as
// marking-definitions, as node n's ingest takes it.
func (o Labelled) Bundle(n *stack.Node) ([]byte, error) {
	reg := n.Registry()
	parse := func(b string) (label.Label, error) {
		l, err := reg.ParseBanner(b)
		if err == nil {
			err = reg.Validate(l)
		}
		return l, err
	}
	whole, err := parse(o.Banner)
	if err != nil {
		return nil, fmt.Errorf("label %q: %w", o.Banner, err)
	}
	objs := []json.RawMessage{reg.MarkingDefinition(whole)}
	obj := map[string]any{}
	for k, v := range o.Object {
		obj[k] = v
	}
	obj["object_marking_refs"] = []any{whole.ID()}
	var gms []any
	for sel, b := range o.Parts {
		l, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("label %q: %w", b, err)
		}
		objs = append(objs, reg.MarkingDefinition(l))
		gms = append(gms, map[string]any{"selectors": []any{sel}, "marking_ref": l.ID()})
	}
	if gms != nil {
		obj["granular_markings"] = gms
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	objs = append(objs, raw)
	return json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objs})
}

// ScenarioReport is the object the demo follows: a threat actor whose
// name and summary are NATO RESTRICTED open-source material, with a SIGINT
// description marked NATO SECRET REL TO GBR, USA.
func ScenarioReport() Labelled {
	const t = "2026-03-01T09:00:00.000Z"
	return Labelled{
		Object: map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--6b3c1f0e-2a4d-4b8e-9c51-0d7f3e2a9b14",
			"created": t, "modified": t, "name": "HARBOUR SWIFT", "threat_actor_types": []any{"nation-state"},
			"description": "Intercepts show HARBOUR SWIFT staging through a ferry operator's VPN; next window 14-16 March.",
			"aliases":     []any{"APT-HS"}},
		Banner: "NATO RESTRICTED // DISC OSINT // TOPIC CYBER",
		Parts:  map[string]string{"description": "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER"},
	}
}

// Publish ingests o at m as m's analyst.
func Publish(ctx context.Context, m *Member, o Labelled) (string, error) {
	b, err := o.Bundle(m.Node)
	if err != nil {
		return "", err
	}
	res, err := m.Node.Ingest(ctx, m.Analyst, b, node.IngestOptions{})
	if err != nil {
		return "", err
	}
	if len(res.Refused) > 0 {
		return "", fmt.Errorf("publish: refused %v", res.Refused)
	}
	id, _ := o.Object["id"].(string)
	return id, nil
}
