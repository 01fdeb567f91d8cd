package supervisor

// State is a job's lifecycle state, published retained on $state.
type State string

const (
	Init         State = "init"
	Ready        State = "ready"
	Sleeping     State = "sleeping"
	Disconnected State = "disconnected"
	Lost         State = "lost"
)

// transitions lists the changes a job may make. The reference applies any valid state name
// sent to $state/set; we accept only these (docs/compat.md), so `init` or `lost` sent by a
// client is refused with an error log instead of corrupting the job.
var transitions = map[State][]State{
	Init:     {Ready, Disconnected},
	Ready:    {Sleeping, Disconnected},
	Sleeping: {Ready, Disconnected},
}

// Valid reports whether s is a state name of the contract.
func (s State) Valid() bool {
	switch s {
	case Init, Ready, Sleeping, Disconnected, Lost:
		return true
	}
	return false
}

// canMove reports whether from -> to is in the transition table.
func canMove(from, to State) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}
