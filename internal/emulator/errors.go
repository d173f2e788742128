package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is a vendor error answer: its status and the body
// {"error","exception","timestamp","duration":0,"error_description"}.
// An empty typ leaves `error` out, as the attribute APIs do.
type apiError struct {
	status      int
	typ         string
	exception   string
	description string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.typ, e.description)
}

// errorBody is the vendor's error body.
type errorBody struct {
	Error            string `json:"error,omitempty"`
	Exception        string `json:"exception"`
	Timestamp        int64  `json:"timestamp"`
	Duration         int64  `json:"duration"`
	ErrorDescription string `json:"error_description"`
}

// The vendor's Java exception classes, as its examples name them.
const (
	excResourceNotFound        = "com.easemob.group.exception.ResourceNotFoundException"
	excServiceResourceNotFound = "com.easemob.group.exception.ServiceResourceNotFoundException"
	excForbiddenOp             = "com.easemob.group.exception.ForbiddenOpException"
	excInvalidParameter        = "com.easemob.group.exception.InvalidParameterException"
	excExceedLimit             = "com.easemob.group.exception.ExceedLimitException"
	excIllegalArgument         = "java.lang.IllegalArgumentException"
	excSecurity                = "EasemobSecurityException"
	excAppNotFound             = "org.apache.usergrid.rest.exceptions.OrganizationApplicationNotFoundException"
	excMetadata                = "com.easemob.metadata.exception.MetadataException"
	excJSONParse               = "com.fasterxml.jackson.core.JsonParseException"
	excLimit                   = "EasemobLimitException"
	excServer                  = "EasemobServerException"
)

// Token errors (fact sheet §1, §2).
func errOAuth() *apiError {
	return &apiError{http.StatusUnauthorized, "unauthorized", excSecurity, "Unable to authenticate (OAuth)"}
}

func errExpiredToken() *apiError {
	return &apiError{http.StatusUnauthorized, "unauthorized", excSecurity, "Unable to authenticate due to expired access token"}
}

func errCorruptToken() *apiError {
	return &apiError{http.StatusUnauthorized, "auth_bad_access_token", excSecurity, "Unable to authenticate due to corrupt access token"}
}

func errForeignToken() *apiError {
	return &apiError{http.StatusUnauthorized, "auth_bad_access_token", excSecurity, "Unable to authenticate"}
}

func errAppNotFound(org, app, rest string) *apiError {
	return &apiError{http.StatusNotFound, "organization_application_not_found", excAppNotFound,
		fmt.Sprintf("Could not find application for %s/%s from URI: %s/%s/%s", org, app, org, app, rest)}
}

func errTokenArg(text string) *apiError {
	return &apiError{http.StatusBadRequest, "illegal_argument", excIllegalArgument, text}
}

func errInvalidGrant(text string) *apiError {
	return &apiError{http.StatusBadRequest, "invalid_grant", excSecurity, text}
}

// Room errors (fact sheet §3).
func errRoomNotFound(id string) *apiError {
	return &apiError{http.StatusNotFound, "resource_not_found", excResourceNotFound, fmt.Sprintf("grpID %s does not exist!", id)}
}

// errNoSuchGroup is the detail and member-list answer for an unknown room.
func errNoSuchGroup(id string) *apiError {
	return &apiError{http.StatusNotFound, "service_resource_not_found", excServiceResourceNotFound, "do not find this group:" + id}
}

func errUserNotFound(user string) *apiError {
	return &apiError{http.StatusNotFound, "resource_not_found", excResourceNotFound, fmt.Sprintf("username %s doesn't exist!", user)}
}

// errServiceResourceNotFound is the generic unknown-user-in-path answer,
// also used for paths the API does not have.
func errServiceResourceNotFound() *apiError {
	return &apiError{http.StatusNotFound, "service_resource_not_found", excServiceResourceNotFound, "Service resource not found"}
}

// errMethodNotAllowed answers a path the API serves, with a method it
// does not serve there (fact sheet §1: "405 wrong method"; the body's
// type and text are the emulator's own, the sheet gives none).
func errMethodNotAllowed(method string) *apiError {
	return &apiError{http.StatusMethodNotAllowed, "method_not_allowed", excIllegalArgument, "HTTP method " + method + " is not supported by this URL"}
}

// errNotMembers is "users [a, b] are not members of this group!" with the
// status the operation's page documents (400 or 403, fact sheet §5 #1).
func errNotMembers(status int, users []string) *apiError {
	return &apiError{status, "forbidden_op", excForbiddenOp, fmt.Sprintf("users [%s] are not members of this group!", strings.Join(users, ", "))}
}

func errForbidden(status int, text string) *apiError {
	return &apiError{status, "forbidden_op", excForbiddenOp, text}
}

func errInvalid(text string) *apiError {
	return &apiError{http.StatusBadRequest, "invalid_parameter", excInvalidParameter, text}
}

func errIllegal(text string) *apiError {
	return &apiError{http.StatusBadRequest, "illegal_argument", excIllegalArgument, text}
}

// errExceed is 403 with the type the page spells: exceed_limit on most,
// exceeded_limit on the add-member pages.
func errExceed(typ, text string) *apiError {
	return &apiError{http.StatusForbidden, typ, excExceedLimit, text}
}

func errMustProvide(field string) *apiError { return errInvalid(field + " must be provided") }

// Attribute errors: 400 without an error type, and 401 MetadataException
// (fact sheet §5 #9).
func errMetadata(text string) *apiError {
	return &apiError{http.StatusBadRequest, "", excMetadata, text}
}

func errNotInChatroom() *apiError {
	return &apiError{http.StatusUnauthorized, "MetadataException", excMetadata, "user is not in chatroom"}
}

func errJSON(detail string) *apiError {
	return &apiError{http.StatusBadRequest, "json_parse", excJSONParse, "Unexpected character in request body: " + detail}
}

// errInjected is what FailNext answers. No chat-room page documents a 429
// or 5xx body, so these are the generic vendor error body with a type
// named after the status.
func errInjected(status int) *apiError {
	if status == http.StatusTooManyRequests {
		return &apiError{status, "reach_limit", excLimit, "This request has reached api limit"}
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Server Error"
	}
	return &apiError{status, strings.ReplaceAll(strings.ToLower(text), " ", "_"), excServer, text}
}
