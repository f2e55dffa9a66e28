// Package incidents is the incident response area: it stores what people
// configure for paging (services, teams, escalation policies, on-call
// schedules, routing rules, silences, maintenance windows, contact methods
// and notification rules) and what alerts make of it (incidents, their
// alerts, their timelines and where their escalation stands).
//
// It sits between the alert stage and delivery in Nightjar's flow. The
// decisions are the pure incident and oncall packages': this area loads
// their inputs, calls them, and stores their outcomes, in the caller's
// transaction where one is given (see Store.InTx). What is valid is
// decided there too; the area only adds what needs the database, such as
// whether a referenced policy exists in the project.
package incidents

import (
	"context"
	"fmt"
	"github.com/nightjar-dev/nightjar/incident"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Store is the incidents area of a database. Its methods own their
// transaction, or use the caller's when the Store came from InTx.
type Store struct {
	db   *store.DB
	tx   *store.Tx
	keys *keys
	// LinkTTL is how long the signed links in notifications work; zero
	// is DefaultLinkTTL.
	LinkTTL time.Duration
}

// New returns the incidents area of db.
func New(db *store.DB) *Store { return &Store{db: db, keys: &keys{}} }

// InTx returns the area working inside the caller's transaction, so that
// a declarative apply changes many objects in one commit and the alert
// stage opens incidents in the transaction of the alert change.
func (s *Store) InTx(tx *store.Tx) *Store {
	return &Store{db: tx.DB(), tx: tx, keys: s.keys, LinkTTL: s.LinkTTL}
}

// write runs fn in the caller's transaction, or in a new one.
func (s *Store) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	return s.db.WithTx(ctx, fn)
}

// read is where reads go: the caller's transaction, or the read pool.
func (s *Store) read() store.Querier {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

// conn is where single statements go: the caller's transaction, or the
// database.
func (s *Store) conn() store.Conn {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

// table is how one kind of project-scoped object is stored: rows of
// (id, project_id, cols…, created_at), changed by id within the project.
// Every configuration object but routes (an ordered list) and the
// per-person ones is such a table, so they share one piece of CRUD code.
type table[T any] struct {
	name, what string
	cols       []string
	order      string
	id         func(*T) *string
	validate   func(*T) error
	values     func(*T) []any
	scan       func(row store.Row) (*T, error)
	// refs checks, in the write's transaction, what the object names
	// elsewhere in the project; nil when it names nothing.
	refs func(ctx context.Context, tx *store.Tx, projectID string, v *T) error
	// inUse returns an ECONFLICT error when something still uses the
	// object, which then cannot be deleted; nil when nothing can.
	inUse func(ctx context.Context, tx *store.Tx, projectID, id string) error
}

func (t *table[T]) selectSQL() string {
	s := "SELECT id"
	for _, c := range t.cols {
		s += ", " + c
	}
	return s + " FROM " + t.name
}

func (t *table[T]) create(ctx context.Context, s *Store, projectID string, v *T, now time.Time) error {
	if err := t.check(v); err != nil {
		return err
	}
	return s.write(ctx, func(tx *store.Tx) error {
		if err := t.checkRefs(ctx, tx, projectID, v); err != nil {
			return err
		}
		id := t.id(v)
		if *id == "" {
			*id = store.NewID()
		}
		cols := "id, project_id"
		for _, c := range t.cols {
			cols += ", " + c
		}
		args := append([]any{*id, projectID}, t.values(v)...)
		args = append(args, store.Millis(now))
		q := fmt.Sprintf("INSERT INTO %s (%s, created_at) VALUES (%s)", t.name, cols, store.Placeholders(1, len(args)))
		_, err := tx.Exec(ctx, q, args...)
		return t.writeError(err, "insert")
	})
}

func (t *table[T]) update(ctx context.Context, s *Store, projectID string, v *T) error {
	if err := t.check(v); err != nil {
		return err
	}
	return s.write(ctx, func(tx *store.Tx) error {
		if err := t.checkRefs(ctx, tx, projectID, v); err != nil {
			return err
		}
		set := ""
		for i, c := range t.cols {
			if i > 0 {
				set += ", "
			}
			set += fmt.Sprintf("%s = $%d", c, i+3)
		}
		args := append([]any{*t.id(v), projectID}, t.values(v)...)
		res, err := tx.Exec(ctx, fmt.Sprintf("UPDATE %s SET %s WHERE id = $1 AND project_id = $2", t.name, set), args...)
		if err := t.writeError(err, "update"); err != nil {
			return err
		}
		return store.MustAffect(res, t.what)
	})
}

func (t *table[T]) delete(ctx context.Context, s *Store, projectID, id string) error {
	return s.write(ctx, func(tx *store.Tx) error {
		if t.inUse != nil {
			if err := t.inUse(ctx, tx, projectID, id); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, "DELETE FROM "+t.name+" WHERE id = $1 AND project_id = $2", id, projectID)
		if err != nil {
			return fmt.Errorf("delete %s: %w", t.what, err)
		}
		return store.MustAffect(res, t.what)
	})
}

func (t *table[T]) get(ctx context.Context, q store.Querier, projectID, id string) (*T, error) {
	v, err := t.scan(q.QueryRow(ctx, t.selectSQL()+" WHERE id = $1 AND project_id = $2", id, projectID))
	if err := store.ScanError(err, t.what); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *table[T]) list(ctx context.Context, q store.Querier, projectID string) ([]*T, error) {
	return store.QueryAll(ctx, q, "list "+t.what+"s", t.selectSQL()+" WHERE project_id = $1 ORDER BY "+t.order, t.scan, projectID)
}

func (t *table[T]) check(v *T) error {
	if err := t.validate(v); err != nil {
		return err
	}
	return checkText("id", *t.id(v))
}

func (t *table[T]) checkRefs(ctx context.Context, tx *store.Tx, projectID string, v *T) error {
	if t.refs == nil {
		return nil
	}
	return t.refs(ctx, tx, projectID, v)
}

// writeError turns a unique name into a conflict naming the field.
func (t *table[T]) writeError(err error, op string) error {
	if store.IsUniqueViolation(err) {
		return &nightjar.Error{Code: nightjar.ECONFLICT, Field: "name", Message: fmt.Sprintf("name: another %s of the project has this name or id", t.what)}
	} else if err != nil {
		return fmt.Errorf("%s %s: %w", op, t.what, err)
	}
	return nil
}

// checkText refuses an id given by the caller that is not storable text.
func checkText(field, s string) error {
	if !nightjar.ValidText(s) || len(s) > 100 {
		return nightjar.FieldError(field, "must be at most 100 characters of valid text")
	}
	return nil
}

// exists returns a field error unless the query finds a row.
func exists(ctx context.Context, tx *store.Tx, field, what, query string, args ...any) error {
	var one int
	err := tx.QueryRow(ctx, query, args...).Scan(&one)
	if err := store.ScanError(err, what); err != nil {
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			return nightjar.FieldError(field, "names no %s of the project", what)
		}
		return err
	}
	return nil
}

// unused returns ECONFLICT when the query finds a row: what is still used
// by user.
func unused(ctx context.Context, tx *store.Tx, what, user, query string, args ...any) error {
	var one int
	err := tx.QueryRow(ctx, query+" LIMIT 1", args...).Scan(&one)
	if err := store.ScanError(err, what); err != nil {
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			return nil
		}
		return err
	}
	return nightjar.Errorf(nightjar.ECONFLICT, "the %s is still used by a %s", what, user)
}

// Objects are one kind of a project's configuration objects, changed and
// read by id within the project. The front doors (API, console, apply)
// handle every kind alike through it.
type Objects[T any] struct {
	s *Store
	t *table[T]
}

// Create stores a new object, giving it an id unless it has one. It must
// be valid, its name unused in the project (ECONFLICT naming "name"), and
// what it refers to must be the project's (EINVALID naming the field).
func (o Objects[T]) Create(ctx context.Context, projectID string, v *T, now time.Time) error {
	return o.t.create(ctx, o.s, projectID, v, now)
}

// Update replaces an object, found by its id, with v stated in full;
// ENOTFOUND when the project has no such object.
func (o Objects[T]) Update(ctx context.Context, projectID string, v *T) error {
	return o.t.update(ctx, o.s, projectID, v)
}

// Delete removes an object; ECONFLICT while another object still uses it.
func (o Objects[T]) Delete(ctx context.Context, projectID, id string) error {
	return o.t.delete(ctx, o.s, projectID, id)
}

// Get returns one object by id.
func (o Objects[T]) Get(ctx context.Context, projectID, id string) (*T, error) {
	return o.t.get(ctx, o.s.read(), projectID, id)
}

// List returns the project's objects of the kind, by name (silences by
// start).
func (o Objects[T]) List(ctx context.Context, projectID string) ([]*T, error) {
	return o.t.list(ctx, o.s.read(), projectID)
}

// Services are the project's services. Deleting one leaves its incidents.
func (s *Store) Services() Objects[incident.Service] { return Objects[incident.Service]{s, services} }

// Teams are the project's teams: members must be members of the project,
// the policy one of its policies. A team that owns a service stays.
func (s *Store) Teams() Objects[incident.Team] { return Objects[incident.Team]{s, teams} }

// Policies are the project's escalation policies: targets must be members
// of the project, its schedules and its channels. A policy that a team or
// a route names stays. Incidents already escalating under a changed
// policy follow its new steps from their next step on.
func (s *Store) Policies() Objects[incident.Policy] { return Objects[incident.Policy]{s, policies} }

// Schedules are the project's on-call schedules. A schedule that a policy
// pages stays.
func (s *Store) Schedules() Objects[Schedule] { return Objects[Schedule]{s, schedules} }

// Silences are the project's silences, expired ones too. Times are kept to
// the millisecond.
func (s *Store) Silences() Objects[incident.Silence] { return Objects[incident.Silence]{s, silences} }

// Maintenance are the project's maintenance windows.
func (s *Store) Maintenance() Objects[incident.Maintenance] {
	return Objects[incident.Maintenance]{s, maintenance}
}
