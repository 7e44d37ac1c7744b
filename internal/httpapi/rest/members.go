package rest

import "github.com/seed-3e8d63de/coffer/internal/httpapi"

// secretMembers are the members a secret create or update body may hold,
// at every depth (issue 13): those of its request schema in the OKMS
// swagger (PostSecretV2Request, PutSecretV2Request, SecretV2MetadataShort,
// SecretV2VersionShort) and those of the answers a client may send back
// unchanged (GetSecretV2Response, SecretV2Metadata, SecretV2Version, and
// surface A's iam block, okms-rest.md 1), which are ignored. Anything else
// is refused with a 400 naming it, rather than dropped: a misplaced member
// such as a cas inside version would otherwise be lost without a word.
// This is where coffer departs from okms-rest.md 1.1 ("unknown JSON members
// are ignored"), as docs/design-notes.md records.
var secretMembers = httpapi.Members{
	"path": nil, "iam": nil, "warnings": nil,
	"metadata": {
		"casRequired": nil, "customMetadata": nil, "deactivateVersionAfter": nil, "maxVersions": nil,
		"createdAt": nil, "updatedAt": nil, "currentVersion": nil, "oldestVersion": nil, "urn": nil,
	},
	"version": {
		"data": nil,
		"id":   nil, "state": nil, "createdAt": nil, "deactivatedAt": nil, "warnings": nil,
	},
}
