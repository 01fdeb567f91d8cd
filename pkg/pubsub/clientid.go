package pubsub

import (
	"crypto/rand"
	"strings"
)

// suffixLen is the length of ClientSuffix: 16 base32 characters, 80 random bits.
const suffixLen = 16

// ClientSuffix returns a random lowercase suffix for an internal client id
// ("stirring-sub-pio01-exp-<suffix>", "leader-api-<unit>-<suffix>"). It is long enough that
// no client can guess an internal id and take its session over; the readable prefix keeps
// the broker's logs legible.
func ClientSuffix() string {
	return strings.ToLower(rand.Text()[:suffixLen])
}

// logID is a client id as logs show it: the random suffix of an internal id is cut to four
// characters, so that logs (which reach MQTT and the API) do not hand it out.
func logID(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i < 0 || len(id)-i-1 != suffixLen {
		return id
	}
	return id[:i+5] + "…"
}
