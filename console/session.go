package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/maildlp/maildlp/store"
)

// session is a logged-in user, looked up from the cookie on each request.
type session struct {
	tokenHash string
	User      string
	Role      Role
	CSRF      string // the token every form of this session carries
	Proxy     bool   // authenticated by the trusted proxy's header, no cookie
}

// sessions keeps server-side sessions in the store's database, so that
// they survive a restart and are shared by consoles on several nodes. The
// cookie holds a random token; only its SHA-256 is stored.
type sessions struct {
	st       *store.Store
	lifetime time.Duration
	idle     time.Duration
	now      func() time.Time
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// create starts a session for user and returns the cookie's token.
func (s *sessions) create(ctx context.Context, user, addr string) (string, error) {
	tok := randomToken()
	now := s.now()
	_, err := s.st.DB().ExecContext(ctx, q(s.st, `INSERT INTO console_sessions (token_hash, username, csrf, addr,
		created_us, seen_us, expires_us) VALUES (?,?,?,?,?,?,?)`),
		hashToken(tok), user, randomToken(), addr, now.UnixMicro(), now.UnixMicro(), now.Add(s.lifetime).UnixMicro())
	if err != nil {
		return "", fmt.Errorf("console: create session: %w", err)
	}
	// A user's oldest sessions end beyond MaxSessionsPerUser, so that
	// logging in again and again cannot grow the table.
	_, err = s.st.DB().ExecContext(ctx, q(s.st, `DELETE FROM console_sessions WHERE username = ? AND token_hash NOT IN
		(SELECT token_hash FROM console_sessions WHERE username = ? ORDER BY created_us DESC, token_hash LIMIT ?)`),
		user, user, MaxSessionsPerUser)
	if err != nil {
		return "", fmt.Errorf("console: end old sessions: %w", err)
	}
	return tok, nil
}

// MaxSessionsPerUser bounds the live sessions of one user.
const MaxSessionsPerUser = 20

// lookup returns the live session of tok. The last-seen time is written
// at most once a minute, so that reading pages does not write the
// database on every request.
func (s *sessions) lookup(ctx context.Context, tok string) (*session, error) {
	if tok == "" || len(tok) > 100 {
		return nil, nil
	}
	h := hashToken(tok)
	var ss session
	var role string
	var seen, exp int64
	err := s.st.DB().QueryRowContext(ctx, q(s.st, `SELECT s.username, u.role, s.csrf, s.seen_us, s.expires_us
		FROM console_sessions s JOIN console_users u ON u.name = s.username WHERE s.token_hash = ?`), h).
		Scan(&ss.User, &role, &ss.CSRF, &seen, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: session: %w", err)
	}
	now := s.now()
	if now.UnixMicro() >= exp || now.Sub(time.UnixMicro(seen)) >= s.idle {
		s.delete(ctx, tok)
		return nil, nil
	}
	if now.Sub(time.UnixMicro(seen)) >= time.Minute {
		s.st.DB().ExecContext(ctx, q(s.st, `UPDATE console_sessions SET seen_us = ? WHERE token_hash = ?`), now.UnixMicro(), h)
	}
	ss.tokenHash = h
	ss.Role, err = ParseRole(role)
	if err != nil {
		return nil, nil
	}
	return &ss, nil
}

func (s *sessions) delete(ctx context.Context, tok string) error {
	_, err := s.st.DB().ExecContext(ctx, q(s.st, `DELETE FROM console_sessions WHERE token_hash = ?`), hashToken(tok))
	return err
}

// purge deletes expired sessions.
func (s *sessions) purge(ctx context.Context) error {
	now := s.now()
	_, err := s.st.DB().ExecContext(ctx, q(s.st, `DELETE FROM console_sessions WHERE expires_us <= ? OR seen_us <= ?`),
		now.UnixMicro(), now.Add(-s.idle).UnixMicro())
	return err
}
