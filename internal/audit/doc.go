// Package audit defines coffer's audit trail: the [Event] recorded for every
// authorization decision, and the [Sink] that records it. Events carry who,
// what action, which resource URN and the outcome, never a secret value, a
// token or a password. The service layer is the only writer, so every API
// surface is audited the same way.
package audit
