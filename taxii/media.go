package taxii

import (
	"mime"
	"strconv"
	"strings"
)

// acceptable reports whether an Accept header admits TAXII 2.1 JSON: a
// missing header, */*, application/*, or application/taxii+json with no
// version or version 2.1, at a non-zero quality. A TAXII client that asks
// for another version (2.0) or only for other types gets 406.
func acceptable(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for _, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
				continue
			}
		}
		switch mt {
		case "*/*", "application/*":
			return true
		case taxiiType:
			if v, ok := params["version"]; !ok || v == specVersion {
				return true
			}
		}
	}
	return false
}

// contentTypeOK reports whether a POST body is declared as TAXII 2.1 JSON
// (version 2.1 or, meaning the same, no version).
func contentTypeOK(header string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != taxiiType {
		return false
	}
	v, ok := params["version"]
	return !ok || v == specVersion
}
