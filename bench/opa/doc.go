// Package opa compares Tearline's release decision (policy.Decide) with the
// same rules written idiomatically in OPA/Rego. It is a separate module so
// that OPA stays out of the main module's dependency graph; it imports
// Tearline through a replace directive. Run: go test -bench . -cpu 1
package opa
