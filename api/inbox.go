package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/taxii"
)

// inbox receives a partner's outbox delivery: POST /federation/v1/inbox,
// behind RequirePeer, so the sender is the peer its client certificate
// names and nothing in the body can claim otherwise. The answer is 200 with
// one result per message (accepted, refused for good with a TAXII error
// resource, or retry); a body that is not a delivery is a TAXII error.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	p, ok := PeerFrom(r.Context())
	if !ok { // RequirePeer lets no such request through
		s.fail(w, r, errors.New("inbox: no peer in context"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, node.MaxInboxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeTAXIIError(w, http.StatusRequestEntityTooLarge, "delivery larger than "+strconv.Itoa(node.MaxInboxBody)+" bytes")
			return
		}
		writeTAXIIError(w, http.StatusBadRequest, "reading the delivery: "+err.Error())
		return
	}
	var req node.InboxRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeTAXIIError(w, http.StatusBadRequest, "delivery: "+err.Error())
		return
	}
	if len(req.Messages) == 0 || len(req.Messages) > node.MaxInboxMessages {
		writeTAXIIError(w, http.StatusBadRequest, "delivery: want 1 to "+strconv.Itoa(node.MaxInboxMessages)+" messages")
		return
	}
	res := s.n.HandleInboxBatch(r.Context(), p, req.Messages)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, node.InboxResponse{Results: res})
}

func writeTAXIIError(w http.ResponseWriter, code int, description string) {
	w.Header().Set("Content-Type", taxii.MediaTypeTAXII)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(taxii.Error{Title: http.StatusText(code), Description: description, HTTPStatus: strconv.Itoa(code)})
}
