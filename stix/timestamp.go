package stix

import "time"

// parseTimestamp parses a STIX timestamp (STIX 2.1 §2.14): RFC 3339 in UTC,
// written YYYY-MM-DDTHH:MM:SS[.s+]Z. minFrac is the number of fraction
// digits required: 3 for created and modified, which must be precise to the
// millisecond (§3.2), 0 elsewhere. It is hand-written because it runs for
// every object and time.Parse accepts offsets and lower-case letters.
func parseTimestamp(s string, minFrac int) (time.Time, bool) {
	const base = len("2006-01-02T15:04:05Z")
	if len(s) < base || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	// A leap second is only valid at the end of a UTC minute 23:59.
	if sec == 60 && (hour != 23 || minute != 59) {
		return time.Time{}, false
	}
	frac := s[19 : len(s)-1]
	nsec := 0
	if len(frac) > 0 {
		if frac[0] != '.' || len(frac) == 1 {
			return time.Time{}, false
		}
		frac = frac[1:]
		scale := 100_000_000
		for i := 0; i < len(frac); i++ {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int(c-'0') * scale // digits past nanoseconds add 0
			scale /= 10
		}
	}
	if len(frac) < minFrac {
		return time.Time{}, false
	}
	if sec == 60 {
		// time.Time has no leap seconds; keep order by pinning to the last
		// representable instant of the minute.
		sec, nsec = 59, 999_999_999
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
