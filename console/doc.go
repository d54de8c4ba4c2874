// Package console is the review console: the web pages where security
// and compliance analysts triage incidents, release or delete held mail
// and answer "who did what, when". It reads and writes the incident store
// ([store.Store]) and keeps its users, sessions and saved views in the
// same database.
//
// Pages are rendered on the server with html/template from embedded
// templates; there is no script at all, so the Content-Security-Policy
// forbids every script. Charts are SVG drawn on the server.
//
// Guarantees:
//   - Every handler states the role it needs (viewer, analyst, admin);
//     a request without a session goes to the login page.
//   - Every state change is a POST checked by [http.CrossOriginProtection]
//     and by the session's CSRF token, and is written to the store's
//     append-only event log with the user and the client address.
//   - Passwords are stored as Argon2id hashes; a session cookie is a
//     random token whose hash alone is stored, HttpOnly, SameSite=Strict,
//     Secure on HTTPS. Failed logins are throttled per client address
//     and per user name.
//   - The store holds masked evidence only, and the console shows nothing
//     else: no page, URL or HTML source carries a matched value (a test
//     renders every page of incidents built from test messages and
//     searches them for the raw values).
package console
