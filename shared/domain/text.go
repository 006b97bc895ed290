package domain

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/vip-platform/backend/shared/ids"
	"github.com/vip-platform/backend/shared/validate"
)

// line checks a required single-line value (titles, names) of at most max
// characters and returns it trimmed.
func line(v *validate.Validator, field, s string, max int) string {
	s = strings.TrimSpace(s)
	if v.Required(field, s) && v.Text(field, s) {
		v.Length(field, s, 1, max)
	}
	return s
}

// body checks a multiline value of min..max characters (min 0: optional) and
// returns it trimmed, so padding cannot satisfy a minimum.
func body(v *validate.Validator, field, s string, min, max int) string {
	s = strings.TrimSpace(s)
	if min > 0 && !v.Required(field, s) {
		return s
	}
	if v.MultilineText(field, s) {
		v.Length(field, s, min, max)
	}
	return s
}

var skillPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+#.-]*$`)

// NormalizeSkill returns the canonical tag for a skill: trimmed, lowercase,
// inner white space runs as one "-" ("Machine  Learning" → "machine-learning").
// ok is false unless the result is 1..MaxSkillLen characters of a-z, 0-9 and
// "+#.-" starting with a letter or digit ("c++", "c#", "node.js"). Listing
// filters use it so a query matches the stored tags.
func NormalizeSkill(s string) (tag string, ok bool) {
	tag = strings.Join(strings.Fields(strings.ToLower(s)), "-")
	if tag == "" || len(tag) > MaxSkillLen || !skillPattern.MatchString(tag) {
		return "", false
	}
	return tag, true
}

// skills normalizes and checks a skill list: MinSkills..MaxSkills distinct
// tags after normalization (duplicates are folded, not refused: "Go" and
// "go" are one skill), order kept.
func skills(v *validate.Validator, field string, in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, s := range in {
		tag, ok := NormalizeSkill(s)
		if !ok {
			v.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("must be 1 to %d letters, digits or +#.- characters", MaxSkillLen))
			continue
		}
		if !seen[tag] {
			seen[tag] = true
			out = append(out, tag)
		}
	}
	if len(in) == 0 || len(out) > 0 {
		v.Check(len(out) >= MinSkills && len(out) <= MaxSkills, field, fmt.Sprintf("must list %d to %d skills", MinSkills, MaxSkills))
	}
	return out
}

// links checks up to MaxLinks distinct absolute https URLs without
// credentials, each at most MaxLinkLen bytes. Plain http and other schemes
// (javascript:, data:, file:) are refused: links are shown to mentors and
// must not downgrade or run anything.
func links(v *validate.Validator, field string, in []string) []string {
	if !v.Check(len(in) <= MaxLinks, field, fmt.Sprintf("must list at most %d links", MaxLinks)) {
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, s := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		s = strings.TrimSpace(s)
		if !validHTTPS(s) {
			v.Add(f, fmt.Sprintf("must be an https:// URL of at most %d characters", MaxLinkLen))
			continue
		}
		if seen[s] {
			v.Add(f, "is listed twice")
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func validHTTPS(s string) bool {
	if s == "" || len(s) > MaxLinkLen || !validate.IsText(s, false) || strings.ContainsAny(s, " \\") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return u.Scheme == "https" && u.Host != "" && u.Hostname() != "" && u.User == nil && u.Opaque == ""
}

// uploadRefs checks up to MaxUploadsPerSubmission distinct upload IDs.
// Whether each exists, is clean and belongs to the submitter is the upload
// store's check, made by the handler.
func uploadRefs(v *validate.Validator, field string, in []string) []string {
	if !v.Check(len(in) <= MaxUploadsPerSubmission, field, fmt.Sprintf("must list at most %d uploads", MaxUploadsPerSubmission)) {
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, id := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ids.Valid(id, ids.Upload):
			v.Add(f, "must be a valid upl_ identifier")
		case seen[id]:
			v.Add(f, "is listed twice")
		default:
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
