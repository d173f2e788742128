// Package eventlog is imbridge's durable event log: every accepted vendor
// callback, stored once, on NATS JetStream.
//
// # Layout
//
// Events live in the stream IMBRIDGE_EVENTS (file storage, limits
// retention, discard old, direct gets allowed) under the subject
// `imbridge.events.<app token>.<family>.<op or _>` (subjects.go, the one
// home of the layout), so that choosing events by selector and application
// is a subject filter. Each message is an imbridgev1.Event without its
// cursor, encoded and compressed as below, with MsgID(call id) as its
// JetStream message id (Nats-Msg-Id): the call id itself, or its SHA-256
// when it is long or odd, since headers are bounded. Errors are
// ErrNotFound, ErrCorrupt and ErrUnavailable (errors.go); sizes follow
// budget.go. An event's cursor is its stream sequence: strictly increasing
// in storage order and never reused, even after retention or a purge
// removed events.
//
// An event holds its raw JSON body and the fields decoded from it, much of
// it text every callback repeats. By default Append compresses each event
// on its own (CompressionEvent), with S2 and a dictionary learned from
// the deployment's own events (dicts.go), which spreads the cost evenly
// over appends. With CompressionS2 JetStream compresses the stream's
// blocks instead, 8 MB at once when a block closes: less disk, but a
// burst of work. The stored form (payload.go) says which it is, so every
// setting reads what any other wrote; processes on one external cluster
// must all run a version that reads it.
//
// A KV bucket sits beside the stream: IMBRIDGE_CHATROOMS holds the group
// ids learned to be chatrooms. Every Log keeps the chatroom set in memory,
// kept current by a watcher on the bucket, so that several imbridge
// processes on one external cluster agree.
//
// The log runs either on a NATS server embedded in the process (Config
// DataDir; connected in-process, with no network listener unless
// Config.ListenAddr asks for one) or on an external NATS cluster
// (Config.NATSURL, with Config.Replicas). External servers must run NATS
// Server 2.11 or later (batched direct gets).
//
// # What an acknowledged Append survives
//
// Append returns only after JetStream acknowledged the event. On the
// embedded server (one replica, file storage) the acknowledgement comes
// after the server wrote the message into its block file with write(2): the
// event is then in the operating system's page cache, and survives a crash
// of the imbridge process (the embedded server included) — the kernel
// writes it out. It survives a power loss or kernel crash only with
// Config.SyncAlways, which makes the server fsync every write before it
// acknowledges it (fewer appends per second: see BenchmarkAppend).
// Without it the file store fsyncs in the background every SyncInterval,
// 2 minutes by default in nats-server v2.15 (`defaultSyncInterval`; the
// first sync of a store comes between 1 and 2 minutes after it opens), so a
// power loss can lose up to about 2 minutes of acknowledged events. The
// kernel's own write-back (dirty pages older than 30 s, by default on
// Linux) usually writes them sooner, but nothing guarantees it.
//
// On an external cluster an acknowledgement means the stream's leader and
// a quorum of its replicas stored the event; with 3 replicas it survives
// the loss of any one server. Power loss of every replica at once behaves
// as above, per the servers' own sync_interval setting.
//
// # Deduplication, and what it costs
//
// Two layers keep a call id from being stored twice; a sibling under the
// call id (another callback the vendor sent under it, callbackKey) is
// stored under a message id of its own (Append). The call id index
// (callids.go) is a Pebble store on local disk, in DataDir/callid-index,
// one per process. Its feeder records every stored event's message id with
// the event's cursor, committing every 50 ms (sooner past 4,096 ids) with
// its checkpoint (the cursor up to which it has recorded everything): the
// process's own appends straight from their acknowledgements, and what
// other processes stored by reading the log with batched direct gets (the
// gaps between its own cursors, and up to the head a probe sees, each once
// a second has passed: most are its own acknowledgements on their way). So
// every process knows the call ids every process stored, a moment after
// they were stored, without following the log with a consumer (which
// halved the stream's write rate), and after a crash the feeder reads
// again from its checkpoint. Append
// checks the index before publishing, after waiting (within its context) until the
// index is current: its feeder reached the log's head once since Open,
// and has recorded every event stored more than half the duplicate window
// ago. An event whose vendor time is recent skips the check: every earlier
// copy of it is still in the window (Log.withinWindow), as far back as
// the server's window surely reaches (window.go). Entries expire
// CallIDIndexTTL after they were stored (default: MaxAge; never when that
// is 0), by partitions an eighth of the TTL wide, each deleted whole once
// it ended a TTL ago: an entry lives between the TTL and 9/8 of it, and a
// lookup probes up to 10 partitions. An event dropped by retention stays
// known as a duplicate while its entry lives; GetByCallID then reports
// ErrNotFound. JetStream's duplicate window catches what the index does
// not know yet: the same call id appended twice at once, by one process
// or two.
//
// Memory is a fixed budget, however many events the log holds: the
// index's block cache (16 MiB) and at most 4 memtables of 4 MiB, and
// while a gap in the log stays open up to indexMaxOwn own appends waiting
// for it (about 20 MiB); on disk it takes about 25 bytes per call id, and
// 8 more for this process's appends, whose callback key (keyHash) the
// entry keeps so that a duplicate is told from a sibling without a read.
// The duplicate window keeps every message id stored within the window in
// the server's memory — in embedded mode, imbridge's own memory; in
// external mode, on every replica. Measured on nats-server v2.15.2 it costs about the id's length
// plus 80 bytes per message (a map entry, an entry struct and a slot in an
// array; up to about 40 bytes more right after the map grows): 5,000
// callbacks/s with the default 30 s window is 150,000 ids of 25 to 45
// bytes, about 18 MB; 60,000/s is 1.8 million ids, about 216 MB (the Go
// heap's headroom comes on top). After a restart the server rebuilds this state by
// reading back every message stored within the window, at the first
// append.
//
// The index is exact in practice: keys are 128-bit hashes of the message
// id, and GetByCallID checks the stored event's call id. An index whose
// epoch is not the log's (the stream was recreated), or whose files Pebble
// finds damaged, is emptied and rebuilt from the log, as is a new one,
// from the events of the last
// CallIDIndexTTL. While it runs, the feeder checks every second that the
// log is still the one it recorded: when the stream was recreated, or its
// head went below the checkpoint (the servers lost their newest writes and
// will reuse those cursors, which entries still name), the index stops.
// Append then refuses, with ErrUnavailable, the callbacks that need it
// (the vendor retries them), live ones are still stored, and the next
// Open rebuilds it. New appends may take the log back past the
// checkpoint before that check; this process's own then tell, once one is
// acknowledged at a cursor where the index recorded another event (a lost
// one): the index stops the same way. A loss that other processes'
// appends alone grew back over by the check goes unnoticed. Earlier versions kept the index in the KV bucket
// IMBRIDGE_CALL_IDS, every key of which the server held in memory; Open
// deletes it.
//
// # Reading
//
// Get and List read with direct gets, which every replica, and every
// mirror of the stream, may answer, lagging behind the leader: a
// just-acknowledged event may not be visible to a List yet, while Get and
// GetByCallID fall back to the stream leader. Where a lagging answer would
// make a reader pass over events for good (a follower's history, the
// tail's first fill, the call id index, the first event at a time), the
// leader confirms its "nothing more" (Log.leaderNext). List
// walks the stream oldest first with JetStream applying the subject
// filter, and newest first in windows of sequences read backwards, checking
// subjects in process; Query.MaxScan bounds the work of one call either
// way. It assumes an event's receive_time is no more than ClockSlack ahead
// of the NATS server's clock when it is stored, which holds for events
// stamped on receipt.
//
// # Following and subscriptions
//
// Follow streams the events a Filter chooses from a Start and then live
// (follow.go): history by direct gets, the live end from one ordered
// consumer per Log whose newest events every follower of the process
// shares, decoded and encoded once. The log's Epoch (its stream's creation
// time) tells cursors of one log from another's. Shared subscriptions
// (subscription.go) are durable consumers with explicit acknowledgement,
// acknowledged by cursor from any process; their settings live in the
// consumer's metadata.
//
// # Closing
//
// A Log is safe for concurrent use. Close it once every caller has
// returned (after the HTTP and gRPC servers stopped): it stops the
// chatroom watcher, drains the connections — waiting for requests in
// flight — and in embedded mode shuts the server down and waits for it.
// Calls after Close fail with NATS's connection-closed error.
package eventlog
