package whistle

import (
	"context"
	"database/sql"
	"slices"

	"github.com/kandidat/kandidat/internal/access"
)

// ChannelStats are one channel's figures: counts and times, never content.
type ChannelStats struct {
	ChannelID string
	Name      string
	// ByStatus counts the cases in each status.
	ByStatus map[string]int
	Total    int
	// Acknowledged counts the acknowledged cases; AckOnTime those acknowledged within seven days.
	Acknowledged, AckOnTime int
	// MedianDaysToAck and MedianDaysToFeedback: -1 when there is none.
	MedianDaysToAck int
	// WithFeedback counts the cases given feedback; FeedbackOnTime within the deadline.
	WithFeedback, FeedbackOnTime int
	MedianDaysToFeedback         int
	// AckLate and FeedbackLate count the open cases past a deadline today.
	AckLate, FeedbackLate int
}

// Stats returns the company's figures per channel (the cases still kept;
// deleted cases leave no trace to count).
func (s *Service) Stats(ctx context.Context, a access.Actor) ([]*ChannelStats, error) {
	if err := mayHandle(a); err != nil {
		return nil, err
	}
	today := Day(s.now())
	by := map[string]*ChannelStats{}
	var order []*ChannelStats
	acks := map[string][]int{}
	fbs := map[string][]int{}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM whistle_channels WHERE tenant_id = $1 ORDER BY name, id`, a.TenantID)
		if err != nil {
			return err
		}
		for rows.Next() {
			cs := &ChannelStats{ByStatus: map[string]int{}, MedianDaysToAck: -1, MedianDaysToFeedback: -1}
			if err := rows.Scan(&cs.ChannelID, &cs.Name); err != nil {
				rows.Close()
				return err
			}
			by[cs.ChannelID] = cs
			order = append(order, cs)
		}
		rows.Close()
		rows, err = tx.QueryContext(ctx, `SELECT channel_id, status, received_on, COALESCE(acknowledged_on, ''), COALESCE(feedback_on, ''), ack_due, feedback_due
			FROM whistle_reports WHERE tenant_id = $1`, a.TenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ch, status, received, acked, fb, ackDue, fbDue string
			if err := rows.Scan(&ch, &status, &received, &acked, &fb, &ackDue, &fbDue); err != nil {
				return err
			}
			cs := by[ch]
			if cs == nil {
				continue
			}
			cs.Total++
			cs.ByStatus[status]++
			info := CaseInfo{Status: status, AcknowledgedOn: acked, FeedbackOn: fb, Deadlines: Deadlines{AckDue: ackDue, FeedbackDue: fbDue}}
			if acked != "" {
				cs.Acknowledged++
				if acked <= ackDue {
					cs.AckOnTime++
				}
				acks[ch] = append(acks[ch], DaysBetween(received, acked))
			}
			if fb != "" {
				cs.WithFeedback++
				if fb <= fbDue {
					cs.FeedbackOnTime++
				}
				fbs[ch] = append(fbs[ch], DaysBetween(received, fb))
			}
			if info.AckLate(today) {
				cs.AckLate++
			}
			if info.FeedbackLate(today) {
				cs.FeedbackLate++
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for ch, cs := range by {
		cs.MedianDaysToAck = median(acks[ch])
		cs.MedianDaysToFeedback = median(fbs[ch])
	}
	return order, nil
}

func median(v []int) int {
	if len(v) == 0 {
		return -1
	}
	slices.Sort(v)
	return v[len(v)/2]
}
