// Package app wires maildlp together: it loads the config, compiles the
// [policy.Engine], starts the enabled front ends (milter, reinjection
// hop), the metrics endpoint and the notification outbox, swaps engines
// on reload and drains sessions on shutdown.
//
// The engine lives in an atomic pointer. Front ends receive
// [App.Engine] and call it once per transaction, so a reload never
// changes a decision mid-message: in-flight messages finish on the engine
// they started with.
//
// Under systemd (Type=notify) the service state is reported on
// $NOTIFY_SOCKET (sd_notify protocol): READY=1 when every listener is up,
// RELOADING=1 then READY=1 around a reload, STOPPING=1 on shutdown.
package app
