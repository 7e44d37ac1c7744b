// Package kms holds the end-to-end tests of the Key Management Service
// half of coffer (issue 15), driven by OVHcloud's own Go SDK,
// github.com/ovh/okms-sdk-go v0.5.4, over a bearer token and over mutual
// TLS with an access certificate, against a real server in this process
// on 127.0.0.1; and by openssl, which verifies coffer's signatures from the
// exported public keys.
//
//	go test ./e2e/kms
//	COFFER_KMS_STREAM_BYTES=524288000 go test ./e2e/kms -run TestSDK_DataKeyStream -v   # the 500 MB file
package kms
