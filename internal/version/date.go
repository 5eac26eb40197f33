// SPDX-License-Identifier: Apache-2.0

package version

// parseDate reads a bare build date, the form TP-Link's CVE records use with
// versionType "date" ("lessThan": "241108"):
//
//	241108        YYMMDD, read as 2024-11-08
//	20241108      YYYYMMDD
//	2024-11-08    ISO 8601, as other feeds write dates
//
// Nothing else may be in the string. Dates order by day; two builds of the
// same day are equal.
func (v *Version) parseDate(in string, start int) failure {
	l := lexer{s: in, i: start}
	w, at := l.next()
	if rest, restAt := l.next(); rest != "" {
		return syntax("text after the date", restAt)
	}
	d, ok := dateToken(w)
	if !ok && len(w) == 10 && w[4] == '-' && w[7] == '-' {
		d, ok = dateParts(w[:4], w[5:7], w[8:])
	}
	if !ok {
		return syntax("not a date: want YYMMDD, YYYYMMDD or YYYY-MM-DD with a valid month and day", at)
	}
	v.date = d
	return failure{}
}

// dateToken reads a TP-Link build date: six digits YYMMDD meaning 20YY, or
// eight digits YYYYMMDD. A token of the right length whose month or day is
// out of range is not a date ("999999" is just a number).
func dateToken(w string) (uint32, bool) {
	switch len(w) {
	case 6:
		if !allDigits(w) {
			return 0, false
		}
		d, ok := dateParts(w[:2], w[2:4], w[4:])
		return d + 20000000, ok
	case 8:
		if !allDigits(w) {
			return 0, false
		}
		return dateParts(w[:4], w[4:6], w[6:])
	}
	return 0, false
}

// dateParts validates year, month and day given as digits and packs them as
// YYYYMMDD. Months are 01-12 and days 01-31; the day is not checked against
// the month, since a vendor's build stamp is not a calendar. A four-digit
// year must be 1970-2099: firmware builds outside that are typos or other
// numbers.
func dateParts(ys, ms, ds string) (uint32, bool) {
	y, oky := atou32(ys)
	m, okm := atou32(ms)
	d, okd := atou32(ds)
	if !oky || !okm || !okd || len(ms) != 2 || len(ds) != 2 {
		return 0, false
	}
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	if len(ys) == 4 && (y < 1970 || y > 2099) {
		return 0, false
	}
	return y*10000 + m*100 + d, true
}
