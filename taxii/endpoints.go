package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

func (h *Handler) baseURL(r *http.Request) string {
	if h.o.BaseURL != "" {
		return h.o.BaseURL
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// discovery lists the one API root with an absolute URL: some clients use
// the URLs in api_roots as they are.
func (h *Handler) discovery(q *request) {
	root := h.baseURL(q.r) + Prefix + h.o.Root + "/"
	write(q.w, http.StatusOK, Discovery{Title: h.o.Title, Description: h.o.Description, Contact: h.o.Contact,
		Default: root, APIRoots: []string{root}})
}

func (h *Handler) apiRoot(q *request) {
	write(q.w, http.StatusOK, APIRoot{Title: h.o.Title, Description: h.o.Description,
		Versions: []string{MediaTypeTAXII}, MaxContentLength: h.o.MaxContentLength})
}

func (h *Handler) status(q *request) {
	st, ok := h.statuses.get(q.caller.Actor(), q.r.PathValue("status"))
	if !ok {
		writeError(q.w, http.StatusNotFound, "no such status resource")
		return
	}
	write(q.w, http.StatusOK, st)
}

func (h *Handler) collections(q *request) {
	cs, err := h.b.Collections(q.ctx, q.caller)
	if err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	write(q.w, http.StatusOK, Collections{Collections: cs})
}

// lookup finds the collection in the path, by id or alias, as the caller
// sees it; it answers 404 itself when there is none.
func (h *Handler) lookup(q *request) (Collection, bool) {
	cs, err := h.b.Collections(q.ctx, q.caller)
	if err != nil {
		h.fail(q.w, q.r, err)
		return Collection{}, false
	}
	name := q.r.PathValue("collection")
	for _, c := range cs {
		if c.ID == name || (c.Alias != "" && c.Alias == name) {
			return c, true
		}
	}
	writeError(q.w, http.StatusNotFound, "no such collection")
	return Collection{}, false
}

// readable finds the collection and checks the caller may read it.
func (h *Handler) readable(q *request) (Collection, bool) {
	c, ok := h.lookup(q)
	if ok && !c.CanRead {
		writeError(q.w, http.StatusForbidden, "this collection does not allow reading for this user")
		return c, false
	}
	return c, ok
}

func (h *Handler) collection(q *request) {
	if c, ok := h.lookup(q); ok {
		write(q.w, http.StatusOK, c)
	}
}

// query parses the URL filters, answering 400 itself when they are bad.
func (h *Handler) query(q *request, f filters) (Query, bool) {
	qu, err := parseQuery(q.r.URL.Query(), f)
	if err != nil {
		writeError(q.w, http.StatusBadRequest, err.Error())
		return qu, false
	}
	qu.Object = q.r.PathValue("object")
	return qu, true
}

func (h *Handler) getObjects(q *request) { h.envelope(q, objectsFilters) }
func (h *Handler) getObject(q *request)  { h.envelope(q, objectFilters) }

// envelope serves the objects endpoint and the object-by-id endpoint.
func (h *Handler) envelope(q *request, f filters) {
	c, ok := h.readable(q)
	if !ok {
		return
	}
	qu, ok := h.query(q, f)
	if !ok {
		return
	}
	page, err := h.b.Objects(q.ctx, q.caller, c.ID, qu)
	if err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	env := Envelope{More: page.More, Next: page.Next}
	if len(page.Items) > 0 {
		env.Objects = append(env.Objects, page.Leading...)
		for _, it := range page.Items {
			env.Objects = append(env.Objects, it.Object)
			env.Objects = append(env.Objects, it.Related...)
		}
	}
	dateHeaders(q.w, page.Items, qu.AddedAfter)
	writeEnvelope(q.w, env)
}

func (h *Handler) manifest(q *request) {
	c, ok := h.readable(q)
	if !ok {
		return
	}
	qu, ok := h.query(q, objectsFilters)
	if !ok {
		return
	}
	qu.Manifest = true
	page, err := h.b.Objects(q.ctx, q.caller, c.ID, qu)
	if err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	m := Manifest{More: page.More, Next: page.Next}
	for _, it := range page.Items {
		m.Objects = append(m.Objects, ManifestRecord{ID: it.ID, DateAdded: Timestamp(it.DateAdded), Version: it.Version, MediaType: it.MediaType})
	}
	dateHeaders(q.w, page.Items, qu.AddedAfter)
	write(q.w, http.StatusOK, m)
}

func (h *Handler) versions(q *request) {
	c, ok := h.readable(q)
	if !ok {
		return
	}
	qu, ok := h.query(q, versionFilters)
	if !ok {
		return
	}
	page, err := h.b.Versions(q.ctx, q.caller, c.ID, qu)
	if err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	v := Versions{More: page.More, Next: page.Next}
	for _, it := range page.Items {
		v.Versions = append(v.Versions, it.Version)
	}
	dateHeaders(q.w, page.Items, qu.AddedAfter)
	write(q.w, http.StatusOK, v)
}

// dateHeaders sets X-TAXII-Date-Added-First and -Last (TAXII 2.1 §3.2):
// the earliest and latest date_added in the page. A poller sends Last back
// as added_after.
//
// §3.2 says every 200 answer of these endpoints MUST carry both, as
// timestamps, and says nothing of a page with no items (an open errata
// question, oasis-tcs/cti-taxii2#117). So an empty page carries them too:
// both the request's added_after, the point a poller is at and should stay
// at (nothing after it was found), else the epoch, before everything.
// Neither depends on anything the caller may not read.
func dateHeaders(w http.ResponseWriter, items []Item, addedAfter time.Time) {
	if len(items) == 0 {
		at := addedAfter
		if at.IsZero() {
			at = time.Unix(0, 0)
		}
		w.Header().Set("X-TAXII-Date-Added-First", Timestamp(at))
		w.Header().Set("X-TAXII-Date-Added-Last", Timestamp(at))
		return
	}
	first, last := items[0].DateAdded, items[0].DateAdded
	for _, it := range items[1:] {
		if it.DateAdded.Before(first) {
			first = it.DateAdded
		}
		if it.DateAdded.After(last) {
			last = it.DateAdded
		}
	}
	w.Header().Set("X-TAXII-Date-Added-First", Timestamp(first))
	w.Header().Set("X-TAXII-Date-Added-Last", Timestamp(last))
}

// maxEnvelopeObjects bounds the objects of one POST.
const maxEnvelopeObjects = 100_000

// addObjects ingests a POSTed envelope and answers 202 with a status.
func (h *Handler) addObjects(q *request) {
	c, ok := h.lookup(q)
	if !ok {
		return
	}
	if !c.CanWrite {
		writeError(q.w, http.StatusForbidden, "this collection does not allow writing for this user")
		return
	}
	if !contentTypeOK(q.r.Header.Get("Content-Type")) {
		writeError(q.w, http.StatusUnsupportedMediaType, "send the envelope as "+MediaTypeTAXII)
		return
	}
	if q.r.ContentLength > h.o.MaxContentLength {
		writeError(q.w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over max_content_length (%d bytes)", h.o.MaxContentLength))
		return
	}
	start := h.o.Now()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(q.w, q.r.Body, h.o.MaxContentLength)); err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	objects, err := parseEnvelope(buf.Bytes())
	if err != nil {
		writeError(q.w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.b.Add(q.ctx, q.caller, c.ID, objects)
	if err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	st := newStatus(start, len(objects), res)
	h.statuses.put(q.caller.Actor(), st)
	write(q.w, http.StatusAccepted, st)
}

func newStatus(start time.Time, total int, res AddResult) Status {
	ts := Timestamp(start)
	fill := func(ds []StatusDetail) []StatusDetail {
		for i := range ds {
			if ds[i].Version == "" {
				// Unversioned objects (SCOs, marking definitions) are
				// reported at the time of the request.
				ds[i].Version = ts
			}
		}
		return ds
	}
	return Status{ID: newUUID(), Status: "complete", RequestTimestamp: ts, TotalCount: total,
		SuccessCount: len(res.Successes), Successes: fill(res.Successes),
		FailureCount: len(res.Failures), Failures: fill(res.Failures)}
}

// parseEnvelope returns the objects of a TAXII envelope. A STIX bundle is
// taken too (same objects array), since clients send either.
func parseEnvelope(body []byte) ([]json.RawMessage, error) {
	// One pass of jsontext over the body, which validates each object as it
	// splits it: encoding/json took two (validate, then decode) and was a
	// fifth of a large POST's CPU.
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	if tok.Kind() != '{' {
		return nil, errors.New("envelope: not a JSON object")
	}
	var objects []json.RawMessage
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("envelope: %w", err)
		}
		if name.String() != "objects" {
			if err := dec.SkipValue(); err != nil {
				return nil, fmt.Errorf("envelope: %w", err)
			}
			continue
		}
		switch dec.PeekKind() {
		case 'n':
			if _, err := dec.ReadToken(); err != nil {
				return nil, fmt.Errorf("envelope: %w", err)
			}
			continue
		case '[':
		default:
			if err := dec.SkipValue(); err != nil {
				return nil, fmt.Errorf("envelope: %w", err)
			}
			return nil, errors.New("envelope: objects is not an array")
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, fmt.Errorf("envelope: %w", err)
		}
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return nil, fmt.Errorf("envelope: objects[%d]: %w", len(objects), err)
			}
			if v.Kind() != '{' {
				return nil, fmt.Errorf("envelope: objects[%d] is not a JSON object", len(objects))
			}
			if len(objects) == maxEnvelopeObjects {
				return nil, fmt.Errorf("envelope: more than %d objects", maxEnvelopeObjects)
			}
			objects = append(objects, json.RawMessage(bytes.Clone(v)))
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, fmt.Errorf("envelope: %w", err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, errors.New("envelope: more than one JSON value")
	}
	return objects, nil
}

// deleteObject: see Backend.Delete. TAXII 2.1 §5.7 fixes the answers by
// the caller's rights on the collection: neither read nor write is 404,
// one of them 403; with both, the backend decides for the object (404 for
// one the caller may not read, 403 for one it may read but not delete).
// Success is 200 with the TAXII media type and no body.
func (h *Handler) deleteObject(q *request) {
	c, ok := h.lookup(q)
	if !ok {
		return
	}
	switch {
	case !c.CanRead && !c.CanWrite:
		writeError(q.w, http.StatusNotFound, "not found")
		return
	case !c.CanRead || !c.CanWrite:
		writeError(q.w, http.StatusForbidden, "this collection does not allow deleting for this user (it needs can_read and can_write)")
		return
	}
	qu, ok := h.query(q, deleteFilters)
	if !ok {
		return
	}
	if err := h.b.Delete(q.ctx, q.caller, c.ID, qu); err != nil {
		h.fail(q.w, q.r, err)
		return
	}
	q.w.Header().Set("Content-Type", MediaTypeTAXII)
	q.w.WriteHeader(http.StatusOK)
}
