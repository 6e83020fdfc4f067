package engine

import "fmt"

// Role is what kind of viewer is looking.
type Role uint8

const (
	RoleSpectator Role = iota // sees only what is public
	RolePlayer                // sees what is public and their own secrets
	RoleAuditor               // sees everything
)

// Viewer is someone events and state are rendered for.
type Viewer struct {
	Role   Role
	Player string // set for RolePlayer
}

// AsPlayer is the viewer for player id.
func AsPlayer(id string) Viewer { return Viewer{Role: RolePlayer, Player: id} }

// AsSpectator is the viewer for anyone watching.
func AsSpectator() Viewer { return Viewer{Role: RoleSpectator} }

// AsAuditor is the viewer that sees everything.
func AsAuditor() Viewer { return Viewer{Role: RoleAuditor} }

// Sees reports whether v may see player's secrets.
func (v Viewer) Sees(player string) bool {
	return v.Role == RoleAuditor || (v.Role == RolePlayer && v.Player == player)
}

func (v Viewer) String() string {
	switch v.Role {
	case RolePlayer:
		return "player " + v.Player
	case RoleAuditor:
		return "auditor"
	}
	return "spectator"
}

// Visibility is how much of an event a viewer receives.
type Visibility uint8

const (
	Full     Visibility = iota // the event as stored
	Redacted                   // the same type, secrets replaced by unknowns
	Stub                       // only the seq
)

func (v Visibility) String() string {
	switch v {
	case Full:
		return "full"
	case Redacted:
		return "redacted"
	case Stub:
		return "stub"
	}
	return fmt.Sprintf("visibility(%d)", uint8(v))
}

// MarshalText encodes v as "full", "redacted" or "stub".
func (v Visibility) MarshalText() ([]byte, error) {
	if v > Stub {
		return nil, fmt.Errorf("unknown visibility %d", uint8(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText decodes "full", "redacted" or "stub".
func (v *Visibility) UnmarshalText(b []byte) error {
	switch string(b) {
	case "full":
		*v = Full
	case "redacted":
		*v = Redacted
	case "stub":
		*v = Stub
	default:
		return fmt.Errorf("unknown visibility %q", b)
	}
	return nil
}
