package engine

// Reason says why a game ended.
type Reason string

const (
	ReasonNormal      Reason = "normal"      // the rules ended it
	ReasonResignation Reason = "resignation" // a player resigned
	ReasonTimeout     Reason = "timeout"     // a player ran out of time
	ReasonAbandonment Reason = "abandonment" // the system abandoned it
)

func (r Reason) valid() bool {
	switch r {
	case ReasonNormal, ReasonResignation, ReasonTimeout, ReasonAbandonment:
		return true
	}
	return false
}

// Outcome is how a game stands. While Ended is false the other fields are
// empty. Winners lists everyone who won (more than one is a shared win);
// Draw means nobody won. An abandoned game has no winners and no draw.
type Outcome struct {
	Ended   bool     `json:"ended"`
	Winners []string `json:"winners"`
	Draw    bool     `json:"draw"`
	Reason  Reason   `json:"reason,omitempty"`
}

// Win is the outcome in which the given players win.
func Win(winners ...string) Outcome {
	return Outcome{Ended: true, Winners: append([]string{}, winners...), Reason: ReasonNormal}
}

// Draw is the outcome in which nobody wins.
func Draw() Outcome {
	return Outcome{Ended: true, Winners: []string{}, Draw: true, Reason: ReasonNormal}
}

// Forced is a decision the game demands before anything else: Player must
// send an action of type Action (for example crazyeights' "choose_suit"
// after an 8). While it is pending nobody else may act, except to resign.
type Forced struct {
	Player string `json:"player"`
	Action string `json:"action"`
}
