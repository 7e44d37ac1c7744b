// Package iamapi is coffer's identity-management API, shaped like
// OVHcloud's (../shared/spec/iam.md 7.4): users, their personal access
// tokens and groups under /1.0/me/identity/..., and IAM policies under
// /v2/iam/policy. Every route is restricted to the account root and ADMIN
// users; the service decides that, this package only authenticates.
//
// Wire choices, each reproducing OVHcloud where it has a shape:
//
//   - Listings of users, groups and tokens are arrays of their
//     identifiers (logins, group names, token names), as OVHcloud's
//     GET /me/identity/user, /me/identity/group and
//     /me/identity/user/{user}/token answer; the policy listing is an array
//     of policy objects, as OVHcloud's GET /v2/iam/policy answers.
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
// X-Ovh-QueryID. A token value appears in exactly one response: the one
// that creates it. A password never appears in any.
package iamapi
