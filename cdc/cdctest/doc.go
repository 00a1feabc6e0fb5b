// Package cdctest runs the pieces of the change feed in-process for tests:
// an embedded JetStream in a temporary directory with no listener, so tests
// need no ports and leave nothing behind.
package cdctest
