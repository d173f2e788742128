package callback

import (
	"bytes"
	"strconv"

	json "github.com/go-json-experiment/json/v1"
)

// wire is the union of the top-level keys of the vendor's callback
// families that the head (see Head) does not read. encoding/json matches
// keys case-insensitively, which is what the vendor's own `Length`/`length`
// disagreement needs; keys that differ by more than case (`chat_type`/
// `chatType`) are separate fields. Every key the head reads (appkey,
// callId, security, timestamp, eventType, chat_type, event, group_id, user,
// status, reason, payload, and in payload type, operation and bodies, and
// each body's type) is left out here, so that it is read once, by exact
// name; so is the envelope every family has (chatType, from, to, msg_id,
// securityVersion, host, and payload.ext), which the head matches as
// encoding/json would here.
type wire struct {
	RecallID flexString `json:"recall_id"`

	// User status.
	Name    string `json:"name"`
	OS      string `json:"os"`
	IP      string `json:"ip"`
	Version string `json:"version"`

	// Keyword alert.
	AlertReason     string   `json:"alertReason"`
	ContentReceiver string   `json:"contentReceiver"`
	ContentOwner    string   `json:"contentOwner"`
	ContentURI      string   `json:"contentUri"`
	ContentType     string   `json:"contentType"`
	SensitiveWords  []string `json:"sensitiveWords"`

	// Read receipts.
	ChannelChannel string `json:"channel_channel"`

	// Offline push results.
	Target       string          `json:"target"`
	Detail       string          `json:"detail"`
	Channel      string          `json:"channel"`
	NotifierName string          `json:"notifier_name"`
	DeviceID     string          `json:"device_id"`
	DeviceToken  string          `json:"device_token"`
	Data         json.RawMessage `json:"data"`
	EMessage     string          `json:"e_message"`

	// Moderation results.
	ModerationResult string          `json:"moderationResult"`
	ProviderResult   string          `json:"providerResult"`
	MessageType      string          `json:"messageType"`
	MessageID        flexString      `json:"messageId"`
	TargetType       string          `json:"targetType"`
	RiskType         string          `json:"riskType"`
	Msg              string          `json:"msg"`
	URL              string          `json:"url"`
	Source           json.RawMessage `json:"source"`
}

// wirePayload is the union of the payload keys of the chat_type families,
// but for type, operation and bodies, which the head reads.
type wirePayload struct {
	Ext          json.RawMessage `json:"ext"`
	AckMessageID flexString      `json:"ack_message_id"`

	// muc
	MucID      string          `json:"muc_id"`
	Reason     json.RawMessage `json:"reason"`
	IsChatroom flexBool        `json:"is_chatroom"`
	Status     *wireStatus     `json:"status"`
	EventInfo  *wireEventInfo  `json:"event_info"`
	RosterVer  string          `json:"roster_ver"`
	Data       json.RawMessage `json:"data"`

	// notify: reaction
	Num         flexInt `json:"num"`
	ChannelType string  `json:"channel_type"`

	// edit (from and to: the older page's sender and recipient)
	EditMessageID flexString `json:"edit_message_id"`
	From          flexString `json:"from"`
	To            flexString `json:"to"`
	Meta          *struct {
		EditMsg struct {
			ChatType string     `json:"chat_type"`
			SendTime flexInt    `json:"send_time"`
			EditTime flexInt    `json:"edit_time"`
			Sender   flexString `json:"sender"`
			Count    flexInt    `json:"count"`
			Operator flexString `json:"operator"`
		} `json:"edit_msg"`
	} `json:"meta"`
}

type wireStatus struct {
	Description string `json:"description"`
	ErrorCode   string `json:"error_code"`
}

type wireEventInfo struct {
	Ext  json.RawMessage `json:"ext"`
	Type string          `json:"type"`
}

// wireBody is the union of the keys of message bodies, but for type,
// which bodyType reads.
type wireBody struct {
	Msg          flexString      `json:"msg"`
	Filename     string          `json:"filename"`
	Secret       string          `json:"secret"`
	FileLength   flexInt         `json:"file_length"`
	Size         *wireSize       `json:"size"`
	URL          string          `json:"url"`
	Length       flexInt         `json:"length"`
	Lat          flexFloat       `json:"lat"`
	Lng          flexFloat       `json:"lng"`
	Addr         string          `json:"addr"`
	Thumb        string          `json:"thumb"`
	ThumbSecret  string          `json:"thumb_secret"`
	Action       string          `json:"action"`
	CustomEvent  string          `json:"customEvent"`
	CustomExts   json.RawMessage `json:"customExts"`
	V2CustomExts json.RawMessage `json:"v2:customExts"`

	// Combined (forwarded) messages, sent as txt, and edited images.
	SubType       string  `json:"subType"`
	Title         string  `json:"title"`
	Summary       string  `json:"summary"`
	CombineLevel  flexInt `json:"combineLevel"`
	ThumbFilename string  `json:"thumbFilename"`
}

type wireSize struct {
	Width  flexInt `json:"width"`
	Height flexInt `json:"height"`
}

type wireSharedFile struct {
	FileID    string  `json:"file_id"`
	FileName  string  `json:"file_name"`
	FileOwner string  `json:"file_owner"`
	FileSize  flexInt `json:"file_size"`
	Created   flexInt `json:"created"`
}

type wireReactionData struct {
	MessageID   flexString `json:"messageId"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	ChannelType string     `json:"channel_type"`
	TS          flexInt    `json:"ts"`
	Reactions   []struct {
		Reaction string   `json:"reaction"`
		UserList []string `json:"userList"`
		Count    flexInt  `json:"count"`
		Op       []struct {
			ReactionType string `json:"reactionType"`
			Operator     string `json:"operator"`
		} `json:"op"`
	} `json:"reactions"`
}

type wireThread struct {
	ID           flexString      `json:"id"`
	Name         string          `json:"name"`
	From         string          `json:"from"`
	Operation    string          `json:"operation"`
	MsgParentID  flexString      `json:"msg_parent_id"`
	MucParentID  flexString      `json:"muc_parent_id"`
	MessageCount flexInt         `json:"message_count"`
	Timestamp    flexInt         `json:"timestamp"`
	LastMessage  json.RawMessage `json:"last_message"`
}

// flexString accepts a JSON string or number (kept as its text); null and
// other kinds leave it empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*f = flexString(b)
	}
	return nil
}

// jsonText is a JSON string's text, or any other JSON value as its JSON
// text: the join page types `payload.options.ext` as JSON, its example
// sends a string.
type jsonText string

func (j *jsonText) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*j = jsonText(s)
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	if s := buf.String(); s != "null" {
		*j = jsonText(s)
	}
	return nil
}

// flexInt accepts a JSON number or a numeric string; anything else is 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(v)
	} else if v, err := strconv.ParseFloat(s, 64); err == nil {
		*f = flexInt(v)
	}
	return nil
}

// flexFloat accepts a JSON number or a numeric string (the vendor documents
// `lat`/`lng` as String and sends numbers).
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	if v, err := strconv.ParseFloat(string(bytes.Trim(b, `"`)), 64); err == nil {
		*f = flexFloat(v)
	}
	return nil
}

// flexBool accepts true/false as JSON booleans or strings.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseBool(string(bytes.Trim(b, `"`)))
	*f = flexBool(err == nil && v)
	return nil
}

// text returns a raw JSON value as a string when it is a JSON string.
func text(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
