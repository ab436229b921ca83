// Package opstest runs operator commands against real `tearline serve`
// processes, on SQLite and on PostgreSQL with two replicas sharing one
// database and one data directory: each command either refuses, naming
// the serving processes and changing nothing, or takes effect for the next
// request, and every object that existed before is still readable before
// and after a restart. docs/STORAGE.md, "Commands on a serving node", is
// the table these tests hold the code to.
package opstest
