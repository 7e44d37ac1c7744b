// Package iamapi is coffer's identity-management API, shaped like
// OVHcloud's (../shared/spec/iam.md 7.4): users, their personal access
// tokens and groups under /1.0/me/identity/..., service accounts (OAuth2
// clients) under /1.0/me/api/oauth2/client, and IAM policies under
// /v2/iam/policy. Every route is restricted to the account root and ADMIN
// users; the service decides that, this package only authenticates. It
// also serves the OAuth2 token endpoint, /auth/oauth2/token, where any
// service account exchanges its client credentials for an access token;
// that route speaks OAuth2 (RFC 6749 5.1, 5.2), not the OVH API
// (oauth2.go).
//
// Wire choices, each reproducing OVHcloud where it has a shape:
//
//   - Listings of users, groups, tokens and service accounts are arrays
//     of their identifiers (logins, group names, token names, client ids),
//     as OVHcloud's GET /me/identity/user, /me/identity/group,
//     /me/identity/user/{user}/token and /me/api/oauth2/client answer; the
//     policy listing is an array of policy objects, as OVHcloud's
//     GET /v2/iam/policy answers.
//   - POST and PUT answer 200 with the object as it now is (OVHcloud
//     answers some of them with no body); DELETE answers 204 without a
//     body on every route.
//   - Users, groups and token creations are decoded leniently, unknown
//     members ignored, because OVHcloud's clients send members of their own
//     (terraform-provider-ovh sends "user" in PUT /me/identity/user/{user}).
//     A token request with "expiresIn" is refused rather than ignored: an
//     ignored lifetime would make a token that never expires.
//   - Policy documents belong to coffer and are decoded strictly: an
//     unknown member (matched case-sensitively) is a 400 InvalidPolicy, as
//     is any "conditions" that is not null or any non-empty
//     "permissionsGroups", which coffer does not support (iam.md 4.1).
//     Every problem of a document is reported at once.
//   - Times are RFC 3339 in whole seconds with Z; an expiresAt or
//     expiredAt given with a fraction of a second is truncated to the
//     second, which can only shorten a lifetime.
//
// Errors use the OVH envelope {"class", "message"} (okms-rest.md 8.2),
// rendered by the one table of errors.go; every response carries
// X-Ovh-QueryID. A token value or client secret appears in exactly one
// response: the one that creates it. A password never appears in any.
//
// The token endpoint's choices: client authentication by HTTP Basic or by
// client_id and client_secret in the form, never both and never the
// secret in the URL; scope must be "all", as on OVHcloud; grant types
// other than client_credentials are unsupported_grant_type, except
// refresh_token and authorization_code, grants OVHcloud takes but whose
// codes and refresh tokens coffer never issues, which are invalid_grant
// once the client has authenticated. Failed client authentications count
// against the address's limit (iam.md 7.1) and are audited.
package iamapi
