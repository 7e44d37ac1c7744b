// Package webui is coffer's web control panel, served under /ui/ by the
// same binary as the APIs: server-rendered html/template pages, one CSS
// file and one small script of our own embedded with go:embed, nothing to
// build and no external asset.
//
// The panel is an adapter like the API surfaces: each handler parses a
// form, calls one method of internal/service with the signed-in caller, and
// renders the result. It holds no authorization rule of its own. To offer
// only what the caller may do it asks the service ([service.Service.Allowed],
// [service.Service.CanAdminister]); the service authorizes and audits every
// operation again when it runs, so a hidden button is a courtesy, never the
// protection.
//
// Security, in one place:
//
//   - Sign-in with a login and password or with a token creates a
//     server-side session (in memory) with an idle and an absolute expiry.
//     The cookie holds only a random session id; it is HttpOnly,
//     SameSite=Strict, and Secure under TLS. A token used to sign in stays
//     in server memory and is checked again on every request, so revoking
//     it ends the session; a password session follows its user's group and
//     ends when the user is deleted. Signing out destroys the session.
//   - Every state-changing request passes [http.CrossOriginProtection] and
//     must carry the session's CSRF token (the sign-in form a pre-session
//     token bound to a cookie).
//   - Every HTML response carries a strict Content-Security-Policy: scripts
//     and styles from the panel's own origin only, no inline script or
//     style, no framing.
//   - A secret value is read only by a POST (the side panel's fetch, or a
//     form without JavaScript), never placed in a URL, never logged, and
//     the side panel forgets it when it closes. Tokens, passwords and
//     private keys are shown once, in the response to the POST that made
//     them, and never in a URL.
//   - Sign-in failures say the same thing whether or not the login exists.
package webui
