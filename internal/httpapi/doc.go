// Package httpapi is the HTTP plumbing shared by coffer's API surfaces:
// handlers that return errors, request ids, panic recovery, the access log
// (one line per request, never a value or a token), body limits and JSON
// decoding with duplicate-key detection, and credential extraction. It makes
// no authorization decision and knows no surface's envelope: each surface
// passes its own error writer.
package httpapi
