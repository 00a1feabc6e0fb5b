// Package sluicetest runs the real sluice binary for end-to-end tests: it
// builds cmd/sluice once per test process, starts `sluice serve` on free
// loopback ports with its own data directory, and hands out an AWS SDK
// client, raw HTTP requests and the table's change records on JetStream. It
// also runs AWS's DynamoDB Local (StartDynamoDBLocal, through
// test/difftest/ddblocal.sh) for tests that compare with it or write to it.
//
// It is imported only by tests. A test package that uses it should call Main
// from its TestMain so that the built binary is removed afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }
//
// # Guarantees
//
//   - Every Server started by Start is stopped when its test ends (SIGTERM,
//     then SIGKILL after a bound), before its data directory is removed.
//   - When a test fails, the server's standard output and error are logged.
//   - The SDK client makes exactly one attempt per call, so a server error
//     surfaces as the test's error instead of being retried away.
//
// Setting SLUICE_BIN to an existing binary skips the build.
package sluicetest
