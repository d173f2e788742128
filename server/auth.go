package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// APIKeys holds the bearer keys callers of our API present. Only SHA-256
// digests are kept, so that every comparison is over equal lengths and
// takes the same time whichever key (if any) matches.
type APIKeys struct {
	digests [][sha256.Size]byte
}

// NewAPIKeys returns the key set; with no keys the API is open.
func NewAPIKeys(keys []string) *APIKeys {
	k := &APIKeys{}
	for _, key := range keys {
		k.digests = append(k.digests, sha256.Sum256([]byte(key)))
	}
	return k
}

// Open reports whether no keys are configured, so every caller is allowed.
func (k *APIKeys) Open() bool { return len(k.digests) == 0 }

// Valid reports whether key is one of the configured keys. It compares
// against every key in constant time.
func (k *APIKeys) Valid(key string) bool {
	d := sha256.Sum256([]byte(key))
	match := 0
	for i := range k.digests {
		match |= subtle.ConstantTimeCompare(d[:], k.digests[i][:])
	}
	return match == 1
}

// authenticate is the auth interceptor's check: a bearer key in the
// `authorization` metadata (the gateway forwards the HTTP header there).
func (k *APIKeys) authenticate(ctx context.Context) (context.Context, error) {
	if k.Open() {
		return ctx, nil
	}
	token, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil {
		return nil, &authError{"missing bearer key: send the header \"authorization: Bearer <key>\""}
	}
	if !k.Valid(strings.TrimSpace(token)) {
		return nil, &authError{"invalid bearer key"}
	}
	return ctx, nil
}

// requiresAuth tells which methods need a key: everything but health.
func requiresAuth(fullMethod string) bool { return !isHealth(fullMethod) }

// isHealth tells the methods of grpc.health.v1.Health.
func isHealth(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+grpc_health_v1.Health_ServiceDesc.ServiceName+"/")
}
