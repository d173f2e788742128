package easemob

import (
	"context"
	"net/http"
	"slices"
)

// AttributeResult is the per-key outcome of setting or deleting attributes;
// the vendor answers 200 even when some keys fail.
type AttributeResult struct {
	SuccessKeys []string
	ErrorKeys   map[string]string // key → reason
}

// GetAnnouncement returns a room's announcement: GET
// /chatrooms/{id}/announcement.
func (a *App) GetAnnouncement(ctx context.Context, id string) (string, error) {
	const op = "GetAnnouncement"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return "", err
	}
	var data struct {
		Announcement string `json:"announcement"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + "/announcement", idempotent: true}, &data); err != nil {
		return "", err
	}
	return data.Announcement, nil
}

// UpdateAnnouncement replaces a room's announcement ("" clears it): POST
// /chatrooms/{id}/announcement with {announcement}.
func (a *App) UpdateAnnouncement(ctx context.Context, id, text string) error {
	const op = "UpdateAnnouncement"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + "/announcement",
		body: map[string]string{"announcement": text}})
}

// GetAttributes returns a room's custom attributes, all of them when keys is
// empty: POST /metadata/chatroom/{id} with {keys} (a read, so retried like a
// GET).
func (a *App) GetAttributes(ctx context.Context, id string, keys []string) (map[string]string, error) {
	const op = "GetAttributes"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if slices.Contains(keys, "") {
		return nil, a.invalid(op, "a key is empty")
	}
	body := map[string][]string{}
	if len(keys) > 0 {
		body["keys"] = keys
	}
	var data map[string]flexString
	if _, err := a.call(ctx, &request{op: op, method: http.MethodPost, path: "/metadata/chatroom/" + seg(id), body: body, idempotent: true}, &data); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		out[k] = string(v)
	}
	return out, nil
}

// SetAttributes sets up to MaxAttributeKeys attributes as username: PUT
// /metadata/chatroom/{id}/user/{username}, or …/forced with force (which may
// overwrite other users' keys). autoDelete true sends "DELETE" (removed when
// the user leaves), false "NO_DELETE".
func (a *App) SetAttributes(ctx context.Context, id, username string, attrs map[string]string, autoDelete bool, force bool) (AttributeResult, error) {
	const op = "SetAttributes"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return AttributeResult{}, err
	}
	if len(attrs) == 0 || len(attrs) > MaxAttributeKeys {
		return AttributeResult{}, a.invalid(op, "%d attributes: want 1 to %d", len(attrs), MaxAttributeKeys)
	}
	if _, ok := attrs[""]; ok {
		return AttributeResult{}, a.invalid(op, "an attribute key is empty")
	}
	ad := "NO_DELETE"
	if autoDelete {
		ad = "DELETE"
	}
	body := struct {
		MetaData   map[string]string `json:"metaData"`
		AutoDelete string            `json:"autoDelete"`
	}{attrs, ad}
	return a.attributes(ctx, &request{op: op, method: http.MethodPut, path: attributesPath(id, username, force), body: body})
}

// DeleteAttributes deletes up to MaxAttributeKeys of username's attributes
// (any user's with force): DELETE /metadata/chatroom/{id}/user/{username}
// [/forced] with {keys}; keys nil leaves "keys" out (what the vendor then
// deletes is not documented).
func (a *App) DeleteAttributes(ctx context.Context, id, username string, keys []string, force bool) (AttributeResult, error) {
	const op = "DeleteAttributes"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return AttributeResult{}, err
	}
	if len(keys) > MaxAttributeKeys {
		return AttributeResult{}, a.invalid(op, "%d keys, more than the documented limit of %d", len(keys), MaxAttributeKeys)
	}
	if slices.Contains(keys, "") {
		return AttributeResult{}, a.invalid(op, "a key is empty")
	}
	body := map[string][]string{}
	if keys != nil {
		body["keys"] = keys
	}
	return a.attributes(ctx, &request{op: op, method: http.MethodDelete, path: attributesPath(id, username, force), body: body})
}

func attributesPath(id, username string, force bool) string {
	p := "/metadata/chatroom/" + seg(id) + "/user/" + seg(username)
	if force {
		p += "/forced"
	}
	return p
}

func (a *App) attributes(ctx context.Context, rq *request) (AttributeResult, error) {
	var data struct {
		SuccessKeys []flexString          `json:"successKeys"`
		ErrorKeys   map[string]flexString `json:"errorKeys"`
	}
	if _, err := a.call(ctx, rq, &data); err != nil {
		return AttributeResult{}, err
	}
	r := AttributeResult{SuccessKeys: strs(data.SuccessKeys), ErrorKeys: make(map[string]string, len(data.ErrorKeys))}
	for k, v := range data.ErrorKeys {
		r.ErrorKeys[k] = string(v)
	}
	return r, nil
}
