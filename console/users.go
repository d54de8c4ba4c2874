package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/maildlp/maildlp/store"
)

// Role is what a user may do. Each role may do what the one before it may.
type Role int

// Roles.
const (
	Viewer  Role = iota + 1 // reads every page
	Analyst                 // changes status, assignee, notes; releases and deletes held mail
	Admin                   // manages users
)

func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Analyst:
		return "analyst"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole parses viewer, analyst or admin.
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{Viewer, Analyst, Admin} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown role %q (want viewer, analyst or admin)", s)
}

// User is a console user.
type User struct {
	Name    string
	Role    Role
	Created time.Time
	Updated time.Time
}

// ErrUserExists is returned when adding a name that is taken.
var ErrUserExists = errors.New("console: user exists")

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// Users is the user table of the console in the store's database. Every
// change is appended to the store's event log.
type Users struct {
	st  *store.Store
	now func() time.Time
}

// NewUsers returns the users of st (migrated).
func NewUsers(st *store.Store) *Users { return &Users{st: st, now: time.Now} }

// q rewrites ? placeholders to $n for PostgreSQL.
func q(st *store.Store, query string) string {
	if st.Driver() != store.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Event kinds of user management and logins.
const (
	KindUserAdd      = "user_add"
	KindUserDelete   = "user_delete"
	KindUserPassword = "user_password"
	KindUserRole     = "user_role"
	KindLogin        = "login"
	KindLoginFailed  = "login_failed"
	KindLogout       = "logout"
)

// Add creates a user with a password.
func (u *Users) Add(ctx context.Context, name string, role Role, password string, who store.Actor) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("invalid user name %q (letters, digits and ._@+-, at most 64)", name)
	}
	if role < Viewer || role > Admin {
		return errors.New("console: invalid role")
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	now := u.now()
	return u.st.Tx(ctx, func(tx *sql.Tx) error {
		var x int
		err := tx.QueryRowContext(ctx, q(u.st, `SELECT 1 FROM console_users WHERE name = ?`), name).Scan(&x)
		if err == nil {
			return fmt.Errorf("%s: %w", name, ErrUserExists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("console: add user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q(u.st, `INSERT INTO console_users (name, role, hash, created_us, updated_us)
			VALUES (?,?,?,?,?)`), name, role.String(), h, now.UnixMicro(), now.UnixMicro()); err != nil {
			return fmt.Errorf("console: add user: %w", err)
		}
		return u.st.AppendEvent(ctx, tx, store.Event{Time: now, Actor: who.Name, SourceAddr: who.Addr,
			Kind: KindUserAdd, After: name + " " + role.String()})
	})
}

// List returns every user by name.
func (u *Users) List(ctx context.Context) ([]User, error) {
	rows, err := u.st.DB().QueryContext(ctx, `SELECT name, role, created_us, updated_us FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("console: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var us User
		var role string
		var c, up int64
		if err := rows.Scan(&us.Name, &role, &c, &up); err != nil {
			return nil, fmt.Errorf("console: list users: %w", err)
		}
		us.Role, _ = ParseRole(role)
		us.Created, us.Updated = time.UnixMicro(c).UTC(), time.UnixMicro(up).UTC()
		out = append(out, us)
	}
	return out, rows.Err()
}

// Get returns one user.
func (u *Users) Get(ctx context.Context, name string) (User, error) {
	us, _, err := u.get(ctx, name)
	return us, err
}

func (u *Users) get(ctx context.Context, name string) (User, string, error) {
	var us User
	var role, hash string
	var c, up int64
	err := u.st.DB().QueryRowContext(ctx, q(u.st, `SELECT name, role, hash, created_us, updated_us
		FROM console_users WHERE name = ?`), name).Scan(&us.Name, &role, &hash, &c, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return us, "", fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return us, "", fmt.Errorf("console: get user: %w", err)
	}
	us.Role, _ = ParseRole(role)
	us.Created, us.Updated = time.UnixMicro(c).UTC(), time.UnixMicro(up).UTC()
	return us, hash, nil
}

// Authenticate returns the user when password is theirs. An unknown name
// costs the same hash as a known one.
func (u *Users) Authenticate(ctx context.Context, name, password string) (User, bool, error) {
	us, hash, err := u.get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		VerifyPassword(dummyHash, password)
		return us, false, nil
	}
	if err != nil {
		return us, false, err
	}
	ok, err := VerifyPassword(hash, password)
	return us, ok, err
}

// SetPassword replaces a user's password and ends their sessions.
func (u *Users) SetPassword(ctx context.Context, name, password string, who store.Actor) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return u.update(ctx, name, `hash = ?`, h, KindUserPassword, "", who)
}

// SetRole changes a user's role and ends their sessions.
func (u *Users) SetRole(ctx context.Context, name string, role Role, who store.Actor) error {
	if role < Viewer || role > Admin {
		return errors.New("console: invalid role")
	}
	return u.update(ctx, name, `role = ?`, role.String(), KindUserRole, role.String(), who)
}

// update sets one column (set is a constant of this file, never input),
// ends the user's sessions and logs the change.
func (u *Users) update(ctx context.Context, name, set string, v any, kind, after string, who store.Actor) error {
	now := u.now()
	return u.st.Tx(ctx, func(tx *sql.Tx) error {
		var before string
		err := tx.QueryRowContext(ctx, q(u.st, `SELECT role FROM console_users WHERE name = ?`), name).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("console: update user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q(u.st, `UPDATE console_users SET `+set+`, updated_us = ? WHERE name = ?`),
			v, now.UnixMicro(), name); err != nil {
			return fmt.Errorf("console: update user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q(u.st, `DELETE FROM console_sessions WHERE username = ?`), name); err != nil {
			return fmt.Errorf("console: end sessions: %w", err)
		}
		if kind != KindUserRole {
			before = ""
		}
		return u.st.AppendEvent(ctx, tx, store.Event{Time: now, Actor: who.Name, SourceAddr: who.Addr,
			Kind: kind, Before: before, After: strings.TrimSpace(name + " " + after)})
	})
}

// Delete removes a user, their sessions and saved views.
func (u *Users) Delete(ctx context.Context, name string, who store.Actor) error {
	now := u.now()
	return u.st.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q(u.st, `DELETE FROM console_users WHERE name = ?`), name)
		if err != nil {
			return fmt.Errorf("console: delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
		}
		for _, t := range []string{"console_sessions", "console_views"} {
			if _, err := tx.ExecContext(ctx, q(u.st, `DELETE FROM `+t+` WHERE username = ?`), name); err != nil {
				return fmt.Errorf("console: delete user: %w", err)
			}
		}
		return u.st.AppendEvent(ctx, tx, store.Event{Time: now, Actor: who.Name, SourceAddr: who.Addr,
			Kind: KindUserDelete, Before: name})
	})
}
