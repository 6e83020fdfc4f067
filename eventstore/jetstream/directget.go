package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// directGet fetches the game's messages from stream sequence from on, in
// batches, through the stream's direct-get API, calling fn for each. max > 0
// stops after max messages. It returns nil when the subject has no more.
func (s *Store) directGet(ctx context.Context, game uuid.UUID, from uint64, max int, fn func(*nats.Msg, uint64) error) error {
	const batch = 256
	subject := s.subject(game)
	api := "$JS.API.DIRECT.GET." + s.cfg.Stream
	got := 0
	for {
		want := batch
		if max > 0 {
			want = min(batch, max-got)
		}
		req, _ := json.Marshal(struct {
			Seq     uint64 `json:"seq"`
			NextFor string `json:"next_by_subj"`
			Batch   int    `json:"batch"`
		}{from, subject, want})
		inbox := s.nc.NewRespInbox()
		sub, err := s.nc.SubscribeSync(inbox)
		if err != nil {
			return err
		}
		err = s.nc.PublishRequest(api, inbox, req)
		n, more, err2 := 0, false, err
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		for err2 == nil {
			var m *nats.Msg
			m, err2 = sub.NextMsgWithContext(rctx)
			if err2 != nil {
				break
			}
			switch m.Header.Get("Status") {
			case "404": // nothing at or after from
				more = false
			case "204": // end of batch
				pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				more = pending > 0
			case "":
				ss, perr := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
				if perr != nil {
					err2 = fmt.Errorf("%w: direct get reply without a sequence", errFormat)
					break
				}
				if err2 = fn(m, ss); err2 != nil {
					break
				}
				n++
				from = ss + 1
				continue
			default:
				err2 = fmt.Errorf("direct get %s: status %s %s", subject, m.Header.Get("Status"), m.Header.Get("Description"))
			}
			break
		}
		cancel()
		sub.Unsubscribe()
		if err2 != nil {
			return err2
		}
		got += n
		if !more || n == 0 || (max > 0 && got >= max) {
			return nil
		}
	}
}
