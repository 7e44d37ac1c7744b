package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
)

// Encrypt and decrypt with a service key: the key's material never leaves
// the server.
func ExampleClient_Encrypt() {
	ts, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, err := client.New(ts.URL, client.WithToken("root"))
	if err != nil {
		log.Fatal(err)
	}
	typ, size := "oct", 256
	k, err := c.CreateServiceKey(ctx, api.CreateServiceKeyRequest{Name: "app", Type: &typ, Size: &size})
	if err != nil {
		log.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, k.ID, []byte("s3cr3t"), "billing")
	if err != nil {
		log.Fatal(err)
	}
	p, err := c.Decrypt(ctx, k.ID, ct, "billing")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Type, k.Size, k.Operations, string(p))
	// Output: oct 256 [encrypt decrypt] s3cr3t
}

// Sign a digest with an EC key and verify the signature on the server.
func ExampleClient_Sign() {
	ts, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, err := client.New(ts.URL, client.WithToken("root"))
	if err != nil {
		log.Fatal(err)
	}
	typ, curve := "EC", "P-256"
	k, err := c.CreateServiceKey(ctx, api.CreateServiceKeyRequest{Name: "signer", Type: &typ, Curve: &curve})
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("release 1.0")
	sig, err := c.Sign(ctx, k.ID, "ES256", msg, false)
	if err != nil {
		log.Fatal(err)
	}
	ok, err := c.Verify(ctx, k.ID, "ES256", msg, sig, false)
	if err != nil {
		log.Fatal(err)
	}
	bad, _ := c.Verify(ctx, k.ID, "ES256", []byte("release 1.1"), sig, false)
	r, err := c.Random(ctx, 32)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sig), ok, bad, len(r))
	// Output: 64 true false 32
}
