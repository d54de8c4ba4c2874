// Package integration holds the end-to-end tests of maildlp against a real
// Postfix: each test starts throwaway Postfix instances (own config and
// queue directories in a temporary directory, loopback only) configured
// from the contrib/postfix fragments, runs the maildlp binary on free
// loopback ports, and inspects what an in-process SMTP sink receives.
// The Sendmail tests do the same with a throwaway Sendmail 8.17 run from
// the Debian packages scripts/deps.sh unpacks (sendmail_harness_test.go),
// configured from contrib/sendmail/sendmail.mc.
//
// The tests need root (Postfix daemons drop to the postfix user) and the
// Debian packages installed by scripts/deps.sh. Without root and without
// CI=true they skip; under CI=true anything missing is a failure.
package integration
