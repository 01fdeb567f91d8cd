// Package contract is the wire contract with the original Pioreactor software: MQTT topic
// names, the payload structs of docs/mqtt.md, "Payloads", and the text form of setting values
// (`500.0`, `True`). No other package formats a topic or a payload by hand.
//
// Invariants: timestamps are emitted as YYYY-MM-DDTHH:MM:SS.mmmZ and accepted in any RFC 3339
// form; floats always carry a decimal point; booleans are `True`/`False`.
package contract
