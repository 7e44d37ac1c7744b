package central

import "github.com/seed-3e8d63de/coffer/internal/httpapi"

// Listings of surface A (okms-rest.md 7). The cursor codec and the page
// size rules are shared with surface B (httpapi.Listing): both list the
// same objects.

// secretsListing is the secret list of a domain.
func secretsListing(domain string) httpapi.Listing {
	return httpapi.Listing{Domain: domain, Kind: httpapi.ListSecrets}
}

// versionsListing is the version list of the secret at path in a domain.
func versionsListing(domain, path string) httpapi.Listing {
	return httpapi.Listing{Domain: domain, Kind: httpapi.ListVersions, Of: path}
}
