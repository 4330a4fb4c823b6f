package extract

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// docxRules read WordprocessingML (and the DrawingML and math text inside
// it): text is in t elements (field instructions and deleted text are in
// others); the fallback copy of a text box and text moved away are skipped.
var docxRules = xmlRules{
	textIn:  setOf("t"),
	skip:    setOf("Fallback", "moveFrom"),
	breaks:  setOf("br", "cr"),
	blanks:  setOf("tab", "ptab"),
	chars:   map[string]string{"noBreakHyphen": "-"},
	endLine: setOf("p"),
}

// readDOCX reads the body, then the headers and footers (where a CV often
// has the name and contact details).
func readDOCX(ctx context.Context, data []byte, lim Limits, tb *textBuilder) error {
	a, err := openArchive(data, lim)
	if err != nil {
		return err
	}
	var parts []string
	for _, name := range a.names() {
		if isHeaderOrFooter(name) {
			parts = append(parts, name)
		}
	}
	slices.Sort(parts)
	parts = slices.Insert(parts, 0, "word/document.xml")
	for _, name := range parts {
		if err := readPart(ctx, a, name, docxRules, lim, tb); err != nil {
			return err
		}
		tb.newline() // an empty line between parts
		tb.newline()
	}
	return nil
}

// isHeaderOrFooter tells word/header1.xml and word/footer2.xml.
func isHeaderOrFooter(name string) bool {
	rest, ok := strings.CutPrefix(name, "word/")
	if !ok || !strings.HasSuffix(rest, ".xml") || strings.Contains(rest, "/") {
		return false
	}
	return strings.HasPrefix(rest, "header") || strings.HasPrefix(rest, "footer")
}

// readPart streams one XML entry of the archive; the entry must exist.
func readPart(ctx context.Context, a *archive, name string, rules xmlRules, lim Limits, tb *textBuilder) error {
	r, ok, err := a.open(name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no %s", ErrDamaged, name)
	}
	defer r.Close()
	if err := readXML(ctx, r, rules, lim.MaxDepth, tb); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
