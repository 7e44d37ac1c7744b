package httpapi

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Sealed answers service.ErrSealed: while the service is sealed, each
// surface serves it (through its own error writer, so in its own
// envelope) for every request before routing, so that even a request
// without credentials, or for no route, learns that coffer is sealed.
func Sealed(http.ResponseWriter, *http.Request) error { return service.ErrSealed }
