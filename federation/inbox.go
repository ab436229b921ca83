package federation

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tearline/tearline/taxii"
)

// Receiver is what the inbox needs from the node: handle the messages of
// one delivery from peer, in order, and answer one result per message. The
// node decides, stores and audits; a result that is not accepted carries a
// Reason of the table.
type Receiver interface {
	ReceiveBatch(ctx context.Context, from *Peer, msgs []InboxMessage) []InboxMessageResult
}

// Server serves the partner routes of one node.
type Server struct {
	recv Receiver
	self string // this node's name, for hello
	log  *slog.Logger
}

// NewServer returns the partner routes' handlers for the node named self.
func NewServer(self string, recv Receiver, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{recv: recv, self: self, log: log}
}

// Mount adds the partner routes to mux, each behind RequirePeer. The
// listener must be wrapped in WithPeer.
func (s *Server) Mount(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("GET "+HelloPath, RequirePeer(http.HandlerFunc(s.hello)))
	mux.Handle("POST "+InboxPath, RequirePeer(http.HandlerFunc(s.inbox)))
}

// hello answers who the caller is, as this node knows it: the simplest
// proof that mutual TLS and the peer registry agree.
func (s *Server) hello(w http.ResponseWriter, r *http.Request) {
	p, ok := PeerFrom(r.Context())
	if !ok { // RequirePeer lets no such request through
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"peer": p.Name, "country": p.Country, "org": p.Org, "node": s.self})
}

// inbox receives a partner's outbox delivery: POST /federation/v1/inbox,
// behind RequirePeer, so the sender is the peer its client certificate
// names and nothing in the body can claim otherwise. The answer is 200 with
// one result per message (accepted, refused for good with a TAXII error
// resource, or retry); a body that is not a delivery is a TAXII error.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	p, ok := PeerFrom(r.Context())
	if !ok { // RequirePeer lets no such request through
		s.log.Error("inbox: no peer in context")
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInboxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeTAXIIError(w, http.StatusRequestEntityTooLarge, "delivery larger than "+strconv.Itoa(MaxInboxBody)+" bytes")
			return
		}
		writeTAXIIError(w, http.StatusBadRequest, "reading the delivery: "+err.Error())
		return
	}
	var req InboxRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeTAXIIError(w, http.StatusBadRequest, "delivery: "+err.Error())
		return
	}
	if len(req.Messages) == 0 || len(req.Messages) > MaxInboxMessages {
		writeTAXIIError(w, http.StatusBadRequest, "delivery: want 1 to "+strconv.Itoa(MaxInboxMessages)+" messages")
		return
	}
	res := s.recv.ReceiveBatch(r.Context(), p, req.Messages)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, InboxResponse{Results: res})
}

func writeTAXIIError(w http.ResponseWriter, code int, description string) {
	w.Header().Set("Content-Type", taxii.MediaTypeTAXII)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(taxii.Error{Title: http.StatusText(code), Description: description, HTTPStatus: strconv.Itoa(code)})
}
