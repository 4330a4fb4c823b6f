package extract

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// xmlRules tell a word processor's XML what is text, by local element
// name (prefixes and namespaces vary between producers and versions).
type xmlRules struct {
	textIn  set               // character data inside these elements is text
	skip    set               // these elements' contents are not text (comments, deleted or duplicate copies)
	breaks  set               // these empty elements break a line
	blanks  set               // these empty elements are blank space (tabs, spaces)
	chars   map[string]string // these empty elements stand for characters
	endLine set               // the end of these elements ends a line (paragraphs, headings)
}

type set map[string]bool

func setOf(names ...string) set {
	s := make(set, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

// readXML streams one XML document into tb. The decoder reads no DTD and
// expands no entity but the predefined ones; nesting deeper than
// Limits.MaxDepth is refused. Raw tokens are read (names as written, no
// namespace stack): several times faster than Token, whose matching of
// end tags and namespaces the rules do not need.
func readXML(ctx context.Context, r io.Reader, rules xmlRules, maxDepth int, tb *textBuilder) error {
	d := xml.NewDecoder(noNUL{r})
	depth, inText, skipping := 0, 0, 0
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return fmt.Errorf("%w: unexpected end of XML", ErrDamaged)
			}
			return nil
		}
		if err != nil {
			return damaged(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("%w: XML nested deeper than %d", ErrTooLarge, maxDepth)
			}
			name := tok.Name.Local
			switch {
			case skipping > 0 || rules.skip[name]:
				skipping++
			case rules.textIn[name]:
				inText++
			case rules.breaks[name]:
				tb.newline()
			case rules.blanks[name]:
				tb.blank()
			case rules.chars[name] != "":
				if err := tb.writeInline(rules.chars[name]); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				return fmt.Errorf("%w: unmatched end tag", ErrDamaged)
			}
			name := tok.Name.Local
			switch {
			case skipping > 0:
				skipping--
			case rules.textIn[name]:
				inText--
			}
			if skipping == 0 && rules.endLine[name] {
				tb.newline()
			}
		case xml.CharData:
			if inText > 0 && skipping == 0 {
				if err := tb.writeInline(string(tok)); err != nil {
					return err
				}
			}
		}
	}
}

// noNUL fails on the first NUL byte, which XML never has: a part made of
// zeros (the usual bomb) fails at once instead of being decoded to the
// limit.
type noNUL struct{ r io.Reader }

func (n noNUL) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if bytes.IndexByte(p[:k], 0) >= 0 {
		return k, fmt.Errorf("%w: NUL byte in XML", ErrDamaged)
	}
	return k, err
}
