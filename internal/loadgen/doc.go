// Package loadgen is the engine of `coffer bench`: it drives a running
// coffer server over HTTP(S) with a fixed number of concurrent keep-alive
// connections, each a closed loop (send a request, read the whole response,
// send the next), for one of a set of scenarios (KV2 reads and writes,
// surface-B reads, writes and list pages, a 90/10 mix), and reports the
// rate, the latency distribution and the errors.
//
// To tell how close the server runs to what the machine allows, a run can
// also drive a baseline: a minimal net/http server started in the same
// process on 127.0.0.1:0 that answers every request with a body of the size
// the scenario's real responses have (measured during setup), driven by the
// same connections in the same way. The server's rate is then reported as a
// percentage of the baseline's.
//
// The connections speak HTTP/1.1 themselves (a small client over net.Conn,
// optionally under crypto/tls) rather than through net/http's Transport:
// the load tool shares the machine with the server it measures, and a lean
// client leaves more of the CPU to the server. Both the server and the
// baseline are measured with the same client.
//
// loadgen imports only the standard library; it knows coffer's wire
// formats (paths, headers, bodies) but none of its packages.
package loadgen
