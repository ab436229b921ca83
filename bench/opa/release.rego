# The release rules of policy.Decide for one direction of one agreement, in
# idiomatic Rego. data.agreement holds the compiled terms (the equivalence
# table as ranks, group membership expanded); input is one decision.
package tearline.release

import rego.v1

terms := data.agreement.terms[input.recipient]

recipient_country := data.agreement.countries[input.recipient]

reasons contains "agreement-not-active" if data.agreement.state != "active"

reasons contains "agreement-not-effective" if input.now_ns < data.agreement.effective_ns

reasons contains "agreement-expired" if input.now_ns >= data.agreement.expires_ns

reasons contains "no-terms" if not data.agreement.terms[input.recipient]

reasons contains "purpose" if not input.purpose in terms.purposes

reasons contains "unlabelled" if count(input.labels) == 0

reasons contains r if {
	some l in input.labels
	some r in label_reasons(l)
}

reasons contains "orcon" if {
	some l in input.labels
	"ORCON" in l.caveats
	input.originator != ""
	not consented
}

reasons contains "provenance" if {
	input.originator != ""
	count(input.provenance) == 0
}

reasons contains "third-party" if {
	some hop in input.provenance
	not onward_allows(hop)
}

consented if {
	some c in input.consents
	c.by == input.originator
	c.to == input.recipient
}

onward_allows(hop) if {
	hop.onward == "parties"
	input.recipient in hop.parties
}

onward_allows(hop) if {
	hop.onward == "originator-consent"
	consented
}

rank(l) := data.agreement.ranks[sprintf("%s/%s/%s", [l.policy, owner(l), l.classification])]

owner(l) := l.originator if l.policy in data.agreement.owned_policies

owner(l) := "" if not l.policy in data.agreement.owned_policies

label_reasons(l) := {r |
	some r in [
		rank_reason(l),
		topic_reason(l),
		discipline_reason(l),
		compartment_reason(l),
		tlp_reason(l),
		releasability_reason(l),
	]
	r != ""
}

rank_reason(l) := "no-equivalence" if not rank(l)

rank_reason(l) := "classification" if rank(l) > terms.max_rank

rank_reason(l) := "" if rank(l) <= terms.max_rank

topic_reason(l) := "" if terms.any_topic

topic_reason(l) := "topic" if {
	not terms.any_topic
	not within(l.topics, terms.topics)
}

topic_reason(l) := "" if {
	not terms.any_topic
	within(l.topics, terms.topics)
}

discipline_reason(l) := "" if terms.any_discipline

discipline_reason(l) := "discipline" if {
	not terms.any_discipline
	not within(l.disciplines, terms.disciplines)
}

discipline_reason(l) := "" if {
	not terms.any_discipline
	within(l.disciplines, terms.disciplines)
}

within(words, allowed) if {
	count(words) > 0
	every w in words {
		w in allowed
	}
}

compartment_reason(l) := "compartment" if {
	some c in l.compartments
	not c in terms.compartments
}

compartment_reason(l) := "" if {
	every c in l.compartments {
		c in terms.compartments
	}
}

tlp_rank := {"": -1, "CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}

tlp_reason(l) := "tlp" if tlp_rank[l.tlp] > terms.max_tlp

tlp_reason(l) := "" if tlp_rank[l.tlp] <= terms.max_tlp

releasability_reason(l) := "originator-only" if {
	"NOFORN" in l.caveats
	l.originator != recipient_country
}

releasability_reason(l) := "" if {
	"NOFORN" in l.caveats
	l.originator == recipient_country
}

releasability_reason(l) := "" if {
	not "NOFORN" in l.caveats
	count(l.releasable_to) > 0
	some e in l.releasable_to
	recipient_country in data.agreement.members[e]
}

releasability_reason(l) := "releasability" if {
	not "NOFORN" in l.caveats
	count(l.releasable_to) > 0
	every e in l.releasable_to {
		not recipient_country in data.agreement.members[e]
	}
}

releasability_reason(l) := "releasable-to-required" if {
	not "NOFORN" in l.caveats
	count(l.releasable_to) == 0
	terms.require_rel_to
}

releasability_reason(l) := r if {
	not "NOFORN" in l.caveats
	count(l.releasable_to) == 0
	not terms.require_rel_to
	r := audience_reason(l)
}

audience_reason(l) := "" if recipient_country in data.agreement.audience[l.policy]

audience_reason(l) := "releasability" if not recipient_country in data.agreement.audience[l.policy]

max_rank := max([rank(l) | some l in input.labels])

approvals := 0 if terms.approvals == 0

approvals := 0 if {
	terms.approvals > 0
	terms.approve_above >= 0
	max_rank <= terms.approve_above
}

approvals := terms.approvals if {
	terms.approvals > 0
	not max_rank <= terms.approve_above
}

default decision := {"outcome": "refuse", "reasons": []}

decision := {"outcome": "refuse", "reasons": sort(reasons)} if count(reasons) > 0

decision := {"outcome": "hold", "approvals": approvals, "reasons": []} if {
	count(reasons) == 0
	approvals > 0
}

decision := {"outcome": "release", "reasons": []} if {
	count(reasons) == 0
	approvals == 0
}
