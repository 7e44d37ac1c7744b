// Package httpapi is the HTTP plumbing shared by coffer's API surfaces:
// handlers that return errors, request ids, panic recovery, the access log
// (one line per request, never a value or a token), body limits and JSON
// decoding with duplicate-key detection, and credential extraction. It makes
// no authorization decision. Each surface passes its own error writer; the
// surfaces of the OKMS dialect compose their error tables from the rows,
// error ids and codes of errors.go, and surface A and the identity API share
// its OVH envelope.
package httpapi
