package wiretest

import (
	"fmt"
	"net/url"
)

// The secret requests of okms-rest.md 3, whose bodies surfaces A and B
// share under their own prefixes (the Client's Resolve adds the prefix).
// Each must succeed: the test stops otherwise.

// CreateSecret creates a secret at path with data (a JSON object) and
// extra members of the body (`"metadata":{...}`).
func (c *Client) CreateSecret(path, data string, extra ...string) {
	c.T.Helper()
	body := fmt.Sprintf(`{"path":%q,"version":{"data":%s}`, path, data)
	for _, x := range extra {
		body += "," + x
	}
	c.Must("POST", "/secret", body+"}")
}

// WriteSecret adds a version holding data through PUT /secret/{path}.
func (c *Client) WriteSecret(path, data string) {
	c.T.Helper()
	c.Must("PUT", "/secret/"+url.PathEscape(path), `{"version":{"data":`+data+`}}`)
}

// SetVersionState changes the state of version id of path.
func (c *Client) SetVersionState(path string, id int, state string) {
	c.T.Helper()
	c.Must("PUT", fmt.Sprintf("/secret/%s/version/%d", url.PathEscape(path), id), `{"state":"`+state+`"}`)
}
