package engine

import (
	"encoding/json"
	"fmt"
)

// Upcast rewrites the data of one event type from schema version From to
// From+1. Upcasts run on read, before decoding, chained until no upcast
// matches; stored events are never rewritten. Apply must be pure.
type Upcast struct {
	Type  string
	From  int
	Apply func(data json.RawMessage) (json.RawMessage, error)
}

// upcast brings (typ, version, data) to the newest version ups know.
func upcast(ups []Upcast, typ string, version int, data json.RawMessage) (json.RawMessage, int, error) {
	for changed := true; changed; {
		changed = false
		for _, u := range ups {
			if u.Type == typ && u.From == version {
				next, err := u.Apply(data)
				if err != nil {
					return nil, 0, fmt.Errorf("%w: upcast %s v%d: %v", ErrCorruptLog, typ, version, err)
				}
				data, version, changed = next, version+1, true
			}
		}
	}
	return data, version, nil
}
