// Command sluice runs Sluice, a DynamoDB-compatible database in which every
// item change is a stream record.
//
//	sluice serve [flags]   start the server
//	sluice tail TABLE      print a table's changes as they happen (tail.go)
//	sluice version         print the version
//	sluice help [command]  show help
//
// # What serve guarantees
//
// serve starts the pieces in dependency order: the engine (which takes the
// data directory's lock), the bus (embedded NATS JetStream), the relay from
// the change log to the bus, and last the HTTP server for the DynamoDB API. It
// prints one "sluice ready: ..." line to standard output once every piece is
// up, naming the bound addresses (so that --listen 127.0.0.1:0 can be used by
// tests). On SIGINT or SIGTERM it stops them in reverse: the HTTP server
// finishes in-flight requests (bounded), the relay stops, the bus drains and
// shuts down, the engine commits what it holds and closes. A second signal
// during shutdown kills the process at once; the change log in Pebble makes
// that safe.
//
// Any failure to start, such as an address in use or a data directory held by
// another process, is one line on standard error and exit status 1. Logs go to
// standard error through log/slog.
//
// # Configuration
//
// Each setting has a flag, a key in the YAML file given by --config, and a
// SLUICE_* environment variable (see config.EnvName). Precedence, lowest
// first: defaults, the file, the environment, flags set on the command line.
package main
