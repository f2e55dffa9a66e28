// Package projects stores Nightjar's tenants and their API keys. A project
// owns every check, channel, key and alert; nothing crosses from one
// project to another. API keys are a project's credentials for the API:
// only a hash of each is kept, and the secret is shown once.
//
// It sits beside the flow rather than in it: the API resolves a key to its
// project before a request reaches any stage, and the console and apply
// manage projects and keys here.
package projects

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Store reads and writes projects and API keys. Its methods own their
// transaction; the ...Tx methods run in a caller's, so that apply can make
// a whole configuration true in one commit.
type Store struct {
	db *store.DB
}

// New returns the projects of db.
func New(db *store.DB) *Store { return &Store{db: db} }

// Create stores a new project, giving it an id and a ping key.
func (s *Store) Create(ctx context.Context, p *nightjar.Project, now time.Time) error {
	return create(ctx, s.db, p, now)
}

// CreateTx is Create inside the caller's transaction.
func (s *Store) CreateTx(ctx context.Context, tx *store.Tx, p *nightjar.Project, now time.Time) error {
	return create(ctx, tx, p, now)
}

func create(ctx context.Context, q store.Conn, p *nightjar.Project, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = store.NewID()
	}
	if p.PingKey == "" {
		p.PingKey = store.NewSecret(15)
	}
	p.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.Exec(ctx, `INSERT INTO projects (id, name, ping_key, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Name, p.PingKey, store.Millis(p.CreatedAt))
	if store.IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "a project with this id or ping key exists")
	} else if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	return nil
}

const projectColumns = `id, name, ping_key, created_at`

// Get returns a project by id.
func (s *Store) Get(ctx context.Context, id string) (*nightjar.Project, error) {
	return scanProject(s.db.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
}

// ByName returns the oldest project with this name.
func (s *Store) ByName(ctx context.Context, name string) (*nightjar.Project, error) {
	return byName(ctx, s.db, name)
}

// ByNameTx is ByName as the caller's transaction sees it.
func (s *Store) ByNameTx(ctx context.Context, tx *store.Tx, name string) (*nightjar.Project, error) {
	return byName(ctx, tx, name)
}

func byName(ctx context.Context, q store.Querier, name string) (*nightjar.Project, error) {
	return scanProject(q.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE name = $1 ORDER BY created_at LIMIT 1`, name))
}

// List lists all projects, oldest first.
func (s *Store) List(ctx context.Context) ([]*nightjar.Project, error) {
	return store.QueryAll(ctx, s.db, "list projects", `SELECT `+projectColumns+` FROM projects ORDER BY created_at, id`, scanProject)
}

// Rename changes a project's name to p.Name.
func (s *Store) Rename(ctx context.Context, p *nightjar.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	res, err := s.db.Exec(ctx, `UPDATE projects SET name = $1 WHERE id = $2`, p.Name, p.ID)
	if err != nil {
		return fmt.Errorf("rename project: %w", err)
	}
	return store.MustAffect(res, "project")
}

func scanProject(row store.Row) (*nightjar.Project, error) {
	var p nightjar.Project
	var created int64
	if err := row.Scan(&p.ID, &p.Name, &p.PingKey, &created); err != nil {
		return nil, store.ScanError(err, "project")
	}
	p.CreatedAt = store.Time(created)
	return &p, nil
}
