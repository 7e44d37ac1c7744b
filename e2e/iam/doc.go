// Package iam holds coffer's in-process IAM end-to-end tests: the real
// server (server.New over the in-memory or bolt store, under the
// encryption layer) behind an httptest listener on 127.0.0.1, driven over
// real HTTP, and over real TLS where certificates are involved, with a fake
// clock that the tests advance instead of sleeping.
//
// The tests prove issue 4's "Must show" list: the authorization matrix of
// surfaces A, B and C with expectations generated from iam.md section 6,
// the metadata-only user, mTLS access certificates issued through the API,
// and the completeness and cleanliness of the audit file. The process-based
// tests stay in package e2e.
package iam
