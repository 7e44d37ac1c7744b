// Package server is coffer's composition root: it is the only package that
// knows every concrete piece. From a [Config] it opens the storage backend
// (an explicit switch, no registries), wraps it in the encryption layer
// with the root key, builds the service, mounts every API surface on one
// handler and serves HTTP until its context is done, then shuts down
// gracefully.
package server
