package protocol

import (
	"encoding/json"
	"strconv"

	"github.com/playlog/playlog/internal/jsonscan"
)

// ScanRequest decodes a request in one pass, without reflection, when it is
// in the form clients send: one JSON object, each field at most once and
// named exactly, strings of ASCII without escapes, last_event_id a plain
// integer, action an object. The Request is then what json.Decoder with
// DisallowUnknownFields makes of data (FuzzScanRequest checks it), with
// Action a slice of data. For anything else it returns false, and the
// caller decodes with encoding/json, which also says what is wrong.
func ScanRequest(data []byte) (Request, bool) {
	var req Request
	var seen [5]bool
	ok := jsonscan.Members(data, func(k []byte, plain bool, v []byte) bool {
		if !plain {
			return false
		}
		var f int
		switch string(k) {
		case "type":
			f = 0
		case "message_id":
			f = 1
		case "game_id":
			f = 2
		case "last_event_id":
			f = 3
		case "action":
			f = 4
		default:
			return false
		}
		if seen[f] {
			return false
		}
		seen[f] = true
		var ok bool
		switch f {
		case 0:
			req.Type, ok = jsonscan.PlainString(v)
		case 1:
			req.MessageID, ok = jsonscan.PlainString(v)
		case 2:
			req.GameID, ok = jsonscan.PlainString(v)
		case 3:
			ok = v[0] >= '0' && v[0] <= '9' // no sign, fraction or exponent (ParseUint refuses them)
			if n, err := strconv.ParseUint(string(v), 10, 64); ok && err == nil {
				req.LastEventID = &n
			} else {
				ok = false
			}
		case 4:
			req.Action, ok = json.RawMessage(v), v[0] == '{'
		}
		return ok
	})
	return req, ok
}
