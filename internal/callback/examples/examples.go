// Package examples holds every example callback request body from the
// vendor's callback documents (see manifest.json for where each comes from),
// used as test fixtures and by `imbridge send`.
package examples

import "embed"

// FS holds the example bodies (*.json) and manifest.json.
//
//go:embed *.json
var FS embed.FS
