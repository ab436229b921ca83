package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/binding"
)

// The client side of GET /api/v1/export: a page holds each object the
// caller may read (its latest version), each followed by its bindings, and
// then the label marking-definitions those bindings name. The CLI's list,
// export and get read it through the functions below, so the page's shape
// is known in one place.

// ItemKind says what an export page item is.
type ItemKind int

// The kinds of export page items.
const (
	ItemObject  ItemKind = iota // an object the caller may read
	ItemBinding                 // a signed label binding of the object before it
	ItemLabel                   // a label marking-definition a binding of the page names
)

// ExportItem is one item of an export page, classified.
type ExportItem struct {
	Kind ItemKind
	Raw  json.RawMessage
	Type string
	ID   string
	Name string
	// When is the object's version time (modified, else created; "" for
	// objects with neither).
	When string
	// For a binding: the object it binds and the labels it names (the
	// whole object's, then its parts').
	ObjectRef string
	Labels    []string
	PartLabel []string
}

// ClassifyExport classifies the items of one export page. A
// marking-definition some binding of the page is about is an object (the
// caller may read marking-definitions as objects); any other is a label.
func ClassifyExport(objs []json.RawMessage) ([]ExportItem, error) {
	type head struct {
		Type, ID, Name, Created, Modified string
	}
	bound := map[string]bool{}
	items := make([]ExportItem, len(objs))
	for i, raw := range objs {
		var h head
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("export item %d: %w", i, err)
		}
		it := ExportItem{Raw: raw, Type: h.Type, ID: h.ID, Name: h.Name, When: h.Modified}
		if it.When == "" {
			it.When = h.Created
		}
		if h.Type == binding.Type {
			bd, err := binding.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("export item %d: binding %s: %w", i, h.ID, err)
			}
			it.Kind, it.ObjectRef = ItemBinding, bd.ObjectRef
			for _, l := range bd.Labels {
				it.Labels = append(it.Labels, l.Ref)
			}
			for _, l := range bd.PartLabels {
				it.PartLabel = append(it.PartLabel, l.Ref)
			}
			bound[bd.ObjectRef] = true
		}
		items[i] = it
	}
	for i := range items {
		if items[i].Kind != ItemBinding && items[i].Type == "marking-definition" && !bound[items[i].ID] {
			items[i].Kind = ItemLabel
		}
	}
	return items, nil
}

// ListRow is one object of an export page as `tearline list` shows it.
type ListRow struct {
	ID, When, Name string
	Banners        []string // of the labels bound to the whole object
}

// ListRows turns an export page into one row per object, with the banners
// of its labels (the labels' names).
func ListRows(objs []json.RawMessage) ([]ListRow, error) {
	items, err := ClassifyExport(objs)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	bound := map[string][]string{} // object id -> label ids
	names := map[string]string{}   // label id -> banner
	for _, it := range items {
		switch it.Kind {
		case ItemBinding:
			for _, l := range it.Labels {
				if !slices.Contains(bound[it.ObjectRef], l) {
					bound[it.ObjectRef] = append(bound[it.ObjectRef], l)
				}
			}
		case ItemLabel:
			names[it.ID] = it.Name
		}
	}
	var rows []ListRow
	for _, it := range items {
		if it.Kind != ItemObject {
			continue
		}
		r := ListRow{ID: it.ID, When: it.When, Name: it.Name}
		for _, l := range bound[it.ID] {
			r.Banners = append(r.Banners, names[l])
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// ExportOptions select what ExportBundle writes.
type ExportOptions struct {
	Types []string  // STIX types; all when empty
	Limit int       // objects asked for per page (the server's default when 0)
	Since time.Time // only versions at or after it (objects with no time are kept)
	// Progress, when set, is called after each page.
	Progress func(pages, objects int)
}

// ExportCounts are what ExportBundle wrote.
type ExportCounts struct{ Objects, Bindings, Labels int }

// ExportBundle writes one STIX bundle of every page of the export to w.
// Within a page a binding follows its object and labels come last, so an
// object dropped by Since takes its bindings with it; labels are written
// once, at the end, and only those a written binding names.
func (c *Client) ExportBundle(ctx context.Context, w io.Writer, o ExportOptions) (ExportCounts, error) {
	var n ExportCounts
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, `{"type":"bundle","id":"bundle--%s","objects":[`, uuid.NewString())
	first := true
	put := func(raw []byte) {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.Write(bytes.TrimSpace(raw))
	}
	labels := map[string]json.RawMessage{}
	var labelOrder []string
	named := map[string]bool{}
	next, pages := "", 0
	for {
		objs, nx, err := c.ExportPage(ctx, o.Types, o.Limit, next)
		if err != nil {
			return n, fmt.Errorf("export page %d: %w", pages+1, err)
		}
		pages++
		items, err := ClassifyExport(objs)
		if err != nil {
			return n, fmt.Errorf("export page %d: %w", pages, err)
		}
		kept := map[string]bool{}
		for _, it := range items {
			switch it.Kind {
			case ItemBinding:
				if !kept[it.ObjectRef] {
					continue
				}
				for _, l := range append(slices.Clone(it.Labels), it.PartLabel...) {
					named[l] = true
				}
				put(it.Raw)
				n.Bindings++
			case ItemLabel:
				// Held back, written once at the end.
				if _, ok := labels[it.ID]; !ok {
					labels[it.ID] = append(json.RawMessage(nil), it.Raw...)
					labelOrder = append(labelOrder, it.ID)
				}
			default:
				if !o.Since.IsZero() && it.When != "" {
					if t, err := time.Parse(time.RFC3339Nano, it.When); err == nil && t.Before(o.Since) {
						continue
					}
				}
				kept[it.ID] = true
				put(it.Raw)
				n.Objects++
			}
		}
		if o.Progress != nil {
			o.Progress(pages, n.Objects)
		}
		if nx == "" {
			break
		}
		next = nx
	}
	for _, id := range labelOrder {
		if named[id] {
			put(labels[id])
			n.Labels++
		}
	}
	bw.WriteString("]}\n")
	return n, bw.Flush()
}

// ObjectBanners returns the banners of the labels bound to the latest
// version of id the caller may read: its bindings name the labels, whose
// marking-definitions carry the banner as their name.
func (c *Client) ObjectBanners(ctx context.Context, id string) ([]string, error) {
	b, err := c.GetRaw(ctx, "/api/v1/objects/"+url.PathEscape(id)+"/bindings")
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	var banners []string
	seen := map[string]bool{}
	for _, raw := range raws {
		bd, err := binding.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("binding: %w", err)
		}
		for _, l := range bd.Labels {
			if seen[l.Ref] {
				continue
			}
			seen[l.Ref] = true
			lb, err := c.GetRaw(ctx, "/api/v1/labels/"+url.PathEscape(l.Ref))
			if err != nil {
				return nil, fmt.Errorf("label %s: %w", l.Ref, err)
			}
			var m struct{ Name string }
			if err := json.Unmarshal(lb, &m); err != nil {
				return nil, fmt.Errorf("label %s: %w", l.Ref, err)
			}
			banners = append(banners, m.Name)
		}
	}
	if len(banners) == 0 {
		return nil, errors.New("no label bound")
	}
	return banners, nil
}
