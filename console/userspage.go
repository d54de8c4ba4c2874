package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/maildlp/maildlp/store"
)

type usersData struct {
	Users []User
	Error string
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, ss *session) {
	us, err := s.users.List(r.Context())
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	s.render(w, r, http.StatusOK, "users", "Users", ss, usersData{Users: us})
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, ss *session) {
	role, err := ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.badRequest(w, r, ss, err.Error())
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	err = s.users.Add(r.Context(), name, role, r.PostFormValue("password"), s.actor(r, ss))
	if err != nil {
		if errors.Is(err, ErrUserExists) || !strings.HasPrefix(err.Error(), "console:") {
			s.badRequest(w, r, ss, err.Error())
			return
		}
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/users?ok=useradd", http.StatusSeeOther)
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	role, err := ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.badRequest(w, r, ss, err.Error())
		return
	}
	if name == ss.User {
		s.badRequest(w, r, ss, "You cannot change your own role; another admin can.")
		return
	}
	if err := s.users.SetRole(r.Context(), name, role, s.actor(r, ss)); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/users?ok=role", http.StatusSeeOther)
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, ss *session) {
	err := s.users.SetPassword(r.Context(), r.PathValue("name"), r.PostFormValue("password"), s.actor(r, ss))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, ss, err)
			return
		}
		s.badRequest(w, r, ss, err.Error())
		return
	}
	http.Redirect(w, r, "/users?ok=password", http.StatusSeeOther)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	if name == ss.User {
		s.badRequest(w, r, ss, "You cannot delete yourself; another admin can.")
		return
	}
	if err := s.users.Delete(r.Context(), name, s.actor(r, ss)); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/users?ok=userdel", http.StatusSeeOther)
}
