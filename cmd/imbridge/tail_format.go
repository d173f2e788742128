package main

// How `imbridge tail` shows an event to people: one bounded line.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// eventLine is an event for people:
//
//	#12  2026-11-22T21:49:21.123Z  chat:txt  alice → bob  "hello"
func eventLine(ev *imbridgev1.Event) string {
	from := firstNonEmpty(ev.GetSenderUsername(), ev.GetSender(), ev.GetUserStatus().GetUser().GetUsername())
	to := firstNonEmpty(ev.GetRecipientUsername(), ev.GetRecipient(), ev.GetGroupId())
	if g := ev.GetGroupId(); g != "" && g != to {
		to += " in " + g
	}
	line := fmt.Sprintf("#%d  %s  %s  %s → %s", ev.GetCursor(), formatTime(ev.GetReceiveTime()),
		orDash(ev.GetSelector()), orDash(clean(from, 64)), orDash(clean(to, 64+20)))
	if s := summary(ev); s != "" {
		line += "  " + s
	}
	return line
}

func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// summaryLen bounds the text of a summary, in characters.
const summaryLen = 80

// summary is a few words about an event's body: the text of a text
// message, the operation of a group event, and so on.
func summary(ev *imbridgev1.Event) string {
	switch b := ev.GetBody().(type) {
	case *imbridgev1.Event_Message:
		bodies := b.Message.GetBodies()
		if len(bodies) == 0 {
			return ""
		}
		s := messageSummary(bodies[0])
		if len(bodies) > 1 {
			s += fmt.Sprintf(" (+%d)", len(bodies)-1)
		}
		return s
	case *imbridgev1.Event_Recall:
		return words("recalls", b.Recall.GetRecallId())
	case *imbridgev1.Event_Muc:
		m := b.Muc
		op := m.GetOperationName()
		if op == "" {
			op = enumName(m.GetOperation().String(), "MUC_OPERATION_")
		}
		return words(op, quoted(m.GetReasonText()))
	case *imbridgev1.Event_Roster:
		op := b.Roster.GetOperationName()
		if op == "" {
			op = enumName(b.Roster.GetOperation().String(), "ROSTER_OPERATION_")
		}
		return clean(op, summaryLen)
	case *imbridgev1.Event_ReadAck:
		return words("read", b.ReadAck.GetAckMessageId())
	case *imbridgev1.Event_ChannelAck:
		return words("channel read", b.ChannelAck.GetAckMessageId())
	case *imbridgev1.Event_UserStatus:
		u := b.UserStatus
		st := u.GetStatusName()
		if st == "" {
			st = map[bool]string{true: "online", false: "offline"}[u.GetOnline()]
		}
		return words(st, u.GetReasonName(), u.GetOs())
	case *imbridgev1.Event_KeywordAlert:
		k := b.KeywordAlert
		return words(k.GetAction(), k.GetAlertReason(), quoted(strings.Join(k.GetSensitiveWords(), ", ")))
	case *imbridgev1.Event_Reaction:
		var rs []string
		for _, m := range b.Reaction.GetData() {
			for _, r := range m.GetReactions() {
				rs = append(rs, r.GetReaction())
			}
		}
		return words("reactions", quoted(strings.Join(rs, " ")))
	case *imbridgev1.Event_Thread:
		return words(b.Thread.GetOperation(), quoted(b.Thread.GetName()))
	case *imbridgev1.Event_Unknown:
		return words("unknown", b.Unknown.GetReason())
	}
	return ""
}

func messageSummary(b *imbridgev1.MessageBody) string {
	switch k := b.GetKind().(type) {
	case *imbridgev1.MessageBody_Txt:
		return quoted(k.Txt.GetMsg())
	case *imbridgev1.MessageBody_Img:
		return "[image " + clean(k.Img.GetFilename(), summaryLen) + "]"
	case *imbridgev1.MessageBody_Audio:
		return fmt.Sprintf("[audio %ds]", k.Audio.GetLength())
	case *imbridgev1.MessageBody_Loc:
		return "[location " + clean(k.Loc.GetAddr(), summaryLen) + "]"
	case *imbridgev1.MessageBody_Video:
		return fmt.Sprintf("[video %ds]", k.Video.GetLength())
	case *imbridgev1.MessageBody_File:
		return "[file " + clean(k.File.GetFilename(), summaryLen) + "]"
	case *imbridgev1.MessageBody_Cmd:
		return "[cmd " + clean(k.Cmd.GetAction(), summaryLen) + "]"
	case *imbridgev1.MessageBody_Custom:
		return "[custom " + clean(k.Custom.GetCustomEvent(), summaryLen) + "]"
	case *imbridgev1.MessageBody_Unknown:
		return "[" + clean(k.Unknown.GetType(), summaryLen) + "]"
	}
	return ""
}

// words joins the non-empty parts with spaces, each cut to size.
func words(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, clean(p, summaryLen+2))
		}
	}
	return strings.Join(out, " ")
}

// quoted is s cut to summaryLen characters and quoted; empty stays empty.
func quoted(s string) string {
	if s == "" {
		return ""
	}
	if r := []rune(s); len(r) > summaryLen {
		s = string(r[:summaryLen-1]) + "…"
	}
	return strconv.QuoteToGraphic(s)
}

// clean is s cut to n characters, without control characters, so that a
// sender cannot break or forge lines of the output.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsGraphic(r) {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// enumName is an enum value's name without its prefix, in lower case:
// MUC_OPERATION_KICK is kick.
func enumName(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}
