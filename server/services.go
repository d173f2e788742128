package server

import imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"

// ChatroomService forwards chatroom administration to Easemob. Its RPCs
// answer UNIMPLEMENTED until the Easemob client lands.
type ChatroomService struct {
	imbridgev1.UnimplementedChatroomServiceServer
}
