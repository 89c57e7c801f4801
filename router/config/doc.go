// Package config decodes and checks Switchboard's HCL config (router.hcl).
//
// Load and Parse return a *Config with every default filled in, or a
// *Diagnostics error that lists every problem found, each with its source
// range; WriteDiagnostics prints them with the offending source line, the
// way `switchboard validate` shows them.
//
// Expressions such as msg.roomId or "team:${user.claims.team}" are compiled
// at load time into Expr parts that the router looks up directly for each
// message: nothing is evaluated through cty on the hot path.
//
// A Config built in Go goes through the same rules: call Defaults, then Check.
// The reference for the file format is docs/CONFIG.md.
package config
