package ingest

import (
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// The replay protocol between a worker's outbox (package outbox) and the streamer. It is
// ours, not the reference's: a worker running the original software never uses it.
//
//	pioreactor/<leader>/$experiment/mqtt_to_db_streaming/$state   retained: ready while the
//	                                       streamer is subscribed and storing; lost (will),
//	                                       disconnected (clean stop) otherwise
//	pioreactor/<unit>/$experiment/outbox/replay    Replay, QoS 1, not retained
//	pioreactor/<unit>/$experiment/outbox/ack       Ack, QoS 1, not retained, sent once the
//	                                       batch's rows are committed
//
// A worker replays only while the streamer is ready, and deletes a batch from its outbox
// only on the Ack, so a batch lost anywhere on the way is sent again; the store drops the
// rows it already holds (store.Insert), which makes the whole path exactly-once.

// JobName is the streamer's name in topics, as the reference's job.
const JobName = "mqtt_to_db_streaming"

// StateTopic is the retained $state of the leader's streamer.
func StateTopic(leader string) string {
	return contract.JobTopic(leader, contract.UniversalExp, JobName, contract.StateAttr)
}

// ReplayTopic is where unit's outbox sends batches.
func ReplayTopic(unit string) string {
	return contract.Topic(unit, contract.UniversalExp, "outbox", "replay")
}

// AckTopic is where the streamer acknowledges unit's batches.
func AckTopic(unit string) string {
	return contract.Topic(unit, contract.UniversalExp, "outbox", "ack")
}

// replayFilter subscribes to every unit's replays.
var replayFilter = ReplayTopic("+")

// Replay is one batch of messages a worker published while the leader could not store
// them, oldest first.
type Replay struct {
	Batch    uint64          `json:"batch"` // the worker's id for the batch, echoed in the Ack
	Messages []ReplayMessage `json:"messages"`
}

// ReplayMessage is one message as it was first published. PublishedAt times the rows whose
// payload carries no time (bioreactor variables, latest_event, pwms/dc, profile names).
type ReplayMessage struct {
	Topic       string             `json:"topic"`
	Payload     []byte             `json:"payload"` // base64 in JSON
	PublishedAt contract.Timestamp `json:"published_at"`
}

// Ack says a batch is stored: every message of it is in the store now, or was malformed
// (counted, never to be stored, so not worth sending again).
type Ack struct {
	Batch      uint64 `json:"batch"`
	Inserted   int    `json:"inserted"`
	Duplicates int    `json:"duplicates"`
	Skipped    int    `json:"skipped"`
}
