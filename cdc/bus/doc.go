// Package bus runs the NATS server and JetStream that carry Sluice's change
// records, or connects to an external NATS server or cluster instead. It is
// the only package that imports nats-server; everything above it talks to the
// bus through a *nats.Conn and a jetstream.JetStream.
//
// # Guarantees
//
//   - Start returns only when the server is ready for connections and
//     JetStream is enabled, or an error; it never waits longer than the
//     context or Options.StartTimeout allow. On an empty directory it takes
//     a few milliseconds.
//   - An embedded server without Options.Listen opens no port at all: no
//     client listener, no HTTP monitoring, no cluster, no signal handlers.
//     Clients reach it in-process (nats.InProcessServer) through Bus.Conn.
//   - A server started again on the same Options.Dir recovers every stream,
//     message and consumer it held when it was closed.
//   - Close drains the connection (pending publishes and handlers finish),
//     shuts the embedded server down and waits until it has, all bounded by
//     its context. If the context ends first, Close forces the connection
//     shut, returns the context's error, and the shutdown finishes in the
//     background; a later Close waits for it. Close is idempotent.
//
// # Durability
//
// JetStream keeps its default asynchronous sync: each acknowledged publish
// has been written to the operating system (a crash of the process loses
// nothing), but the files are fsynced only every two minutes (nats-server's
// default sync interval), so a power loss or kernel crash can lose up to
// that much acknowledged tail. SyncAlways is deliberately not set: Sluice's
// durable log is the change log in Pebble, fsynced with every write, and the
// relay republishes from it whatever JetStream does not hold after a restart.
// The consequence for the relay is that it may trim the change log only
// behind a JetStream acknowledgement older than the sync interval (or after
// an explicit sync), never right behind the latest one.
//
// # Files
//
// The embedded server keeps its store under Options.Dir:
//
//	<Dir>/jetstream/<account>/streams/<stream>/  messages, indexes, consumers
//
// The account is $G (the global account) as no accounts are configured.
// nats-server takes no lock on the directory: a second server starts on it
// without complaint, and two servers writing one store are not safe. The
// caller must ensure one server per directory, for example by keeping Dir
// inside the data directory whose lock it holds.
//
// # Limits
//
// The embedded server accepts messages up to 4 MiB (nats-server's default is
// 1 MiB), because a change record carries both item images of up to 400 KB
// each, and binary attributes grow by a third in JSON. An external server
// applies its own max_payload; Conn().MaxPayload reports it.
package bus
