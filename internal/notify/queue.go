package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/db"
)

// Queue holds outgoing email in the database, written in the transaction of
// the change that causes it (a lockout, an invitation), and delivered by a
// background job after commit: a rolled-back change sends nothing, and a
// slow mail server never slows a request. A message is deleted once sent,
// so the queue keeps no copy of anyone's mail.
type Queue struct {
	db  *db.DB
	now func() time.Time
}

// NewQueue returns the queue in d.
func NewQueue(d *db.DB) *Queue { return &Queue{db: d, now: db.Now} }

// MaxAttempts is how often a message is tried before it is dropped.
const MaxAttempts = 12

// queued is a row of the queue: an email, or a text message when SMSTo is set.
type queued struct {
	Message
	SMSTo string `json:"sms_to,omitempty"`
}

// recipient is the key the queue row is found by for its recipient (an
// erasure drops what is queued to the person, DropQueuedTo): the number of a
// text message in E.164, the lower-cased address of an email to one
// recipient, "" for an email to several.
func (item queued) recipient() string {
	if item.SMSTo != "" {
		if e164, ok := NormalizePhone(item.SMSTo); ok {
			return e164
		}
		return item.SMSTo
	}
	if len(item.To) == 1 {
		return strings.ToLower(item.To[0])
	}
	return ""
}

// EnqueueSMS adds a text message to the queue inside tx.
func (q *Queue) EnqueueSMS(ctx context.Context, tx *sql.Tx, tenantID, to, text string) error {
	if _, ok := NormalizePhone(to); !ok || text == "" {
		return fmt.Errorf("%w: bad phone number or text", ErrInvalidMessage)
	}
	return q.insert(ctx, tx, tenantID, queued{Message: Message{Text: text}, SMSTo: to})
}

// Enqueue adds m to the queue inside tx. The message is checked now, so a
// bad one fails the change that wanted to send it.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, tenantID string, m Message) error {
	_, err := q.EnqueueID(ctx, tx, tenantID, m)
	return err
}

// EnqueueID is Enqueue, returning the queued message's id (which Deliver
// reports back, so the sender can follow the delivery).
func (q *Queue) EnqueueID(ctx context.Context, tx *sql.Tx, tenantID string, m Message) (string, error) {
	if _, err := Compose("kandidat@localhost", m, q.now()); err != nil {
		return "", err
	}
	return q.insertID(ctx, tx, tenantID, queued{Message: m})
}

func (q *Queue) insert(ctx context.Context, tx *sql.Tx, tenantID string, item queued) error {
	_, err := q.insertID(ctx, tx, tenantID, item)
	return err
}

func (q *Queue) insertID(ctx context.Context, tx *sql.Tx, tenantID string, item queued) (string, error) {
	b, err := json.Marshal(item)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	id := hex.EncodeToString(raw)
	now := q.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO email_queue (tenant_id, id, message, created_at, next_try_at, recipient) VALUES ($1, $2, $3, $4, $4, $5)`,
		tenantID, id, string(b), now, item.recipient()); err != nil {
		return "", fmt.Errorf("queue email: %w", err)
	}
	return id, nil
}

// DropQueuedTo deletes, inside tx, the company's queued emails and text
// messages to any of addresses (emails, and phone numbers as stored or in
// E.164): those whose recipient column names one, found by its index, and
// among the rows that name none (queued before the column existed, or to
// several recipients) those whose message is addressed to one. It returns
// how many it deleted.
func DropQueuedTo(ctx context.Context, tx *sql.Tx, tenantID string, addresses []string) (int, error) {
	if len(addresses) == 0 {
		return 0, nil
	}
	want := make(map[string]bool, 2*len(addresses))
	args := []any{tenantID}
	var marks []string
	add := func(a string) {
		if a != "" && !want[a] {
			want[a] = true
			args = append(args, a)
			marks = append(marks, fmt.Sprintf("$%d", len(args)))
		}
	}
	for _, a := range addresses {
		add(strings.ToLower(a))
		if e164, ok := NormalizePhone(a); ok && !strings.Contains(a, "@") {
			add(e164)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM email_queue WHERE tenant_id = $1 AND recipient IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("drop queued mail: %w", err)
	}
	n, _ := res.RowsAffected()
	rows, err := tx.QueryContext(ctx, `SELECT id, message FROM email_queue WHERE tenant_id = $1 AND recipient = ''`, tenantID)
	if err != nil {
		return int(n), fmt.Errorf("read queued mail: %w", err)
	}
	var drop []string
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return int(n), fmt.Errorf("read queued mail: %w", err)
		}
		var item queued
		if json.Unmarshal([]byte(raw), &item) != nil {
			continue
		}
		hit := item.SMSTo != "" && (want[item.SMSTo] || want[item.recipient()])
		for _, to := range item.To {
			hit = hit || want[strings.ToLower(to)]
		}
		if hit {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return int(n), fmt.Errorf("read queued mail: %w", err)
	}
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_queue WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return int(n), fmt.Errorf("drop queued mail: %w", err)
		}
		n++
	}
	return int(n), nil
}

// Delivered reports one delivery attempt, for the caller's log and metrics.
type Delivered struct {
	TenantID, ID string
	Err          error // nil when sent
	Dropped      bool  // refused for good, or out of attempts
}

// Deliver sends up to limit due messages: emails with m, text messages with sms. Each message is claimed
// first (its next try moved ahead), so two instances never send it twice.
func (q *Queue) Deliver(ctx context.Context, m Mailer, sms SMSSender, limit int) ([]Delivered, error) {
	type item struct {
		tenantID, id, message string
		attempts              int
		due                   time.Time
	}
	var items []item
	// The queue is every company's: the installation delivers it.
	err := q.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, message, attempts, next_try_at FROM email_queue
			WHERE next_try_at <= $1 ORDER BY next_try_at LIMIT $2`, q.now(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.tenantID, &it.id, &it.message, &it.attempts, &it.due); err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read email queue: %w", err)
	}
	var out []Delivered
	for _, it := range items {
		claimed := false
		err := q.db.InTx(ctx, scopeOf(it.tenantID), func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE email_queue SET next_try_at = $4 WHERE tenant_id = $1 AND id = $2 AND next_try_at = $3`,
				it.tenantID, it.id, it.due, q.now().Add(10*time.Minute))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			claimed = n == 1
			return err
		})
		if err != nil {
			return out, err
		}
		if !claimed {
			continue // another instance has it
		}
		var msg queued
		d := Delivered{TenantID: it.tenantID, ID: it.id}
		switch err := json.Unmarshal([]byte(it.message), &msg); {
		case err != nil:
			d.Err, d.Dropped = err, true
		case msg.SMSTo != "" && sms == nil:
			d.Err = fmt.Errorf("no SMS sender configured")
		case msg.SMSTo != "":
			d.Err = sms.SendSMS(ctx, msg.SMSTo, msg.Text)
		default:
			d.Err = m.Send(ctx, msg.Message)
		}
		attempts := it.attempts + 1
		switch {
		case d.Err == nil, d.Dropped, IsPermanent(d.Err), attempts >= MaxAttempts:
			d.Dropped = d.Err != nil
			err = q.db.InTx(ctx, scopeOf(it.tenantID), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM email_queue WHERE tenant_id = $1 AND id = $2`, it.tenantID, it.id)
				return err
			})
		default:
			// Back off: 1, 2, 4 … minutes, at most an hour.
			wait := min(time.Duration(1<<min(attempts-1, 6))*time.Minute, time.Hour)
			err = q.db.InTx(ctx, scopeOf(it.tenantID), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE email_queue SET attempts = $3, next_try_at = $4, last_error = $5 WHERE tenant_id = $1 AND id = $2`,
					it.tenantID, it.id, attempts, q.now().Add(wait), truncateError(d.Err))
				return err
			})
		}
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// scopeOf is the transaction scope of a queued message: its company, or the
// installation for a message of none (tenant_id ”).
func scopeOf(tenantID string) string {
	if tenantID == "" {
		return db.Installation
	}
	return tenantID
}

func truncateError(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
