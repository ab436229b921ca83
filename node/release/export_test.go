package release

// ReasonNothingRemains is the reason code of a tearline that would leave
// nothing meaningful, for the external tests.
const ReasonNothingRemains = reasonNothingRemains
