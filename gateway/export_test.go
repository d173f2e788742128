package gateway

// ReadBody is readBody, for the webhook's tests.
var ReadBody = readBody
