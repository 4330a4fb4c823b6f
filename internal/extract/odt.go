package extract

import "context"

// odtRules read OpenDocument text: character data anywhere in a paragraph
// or heading (spans, links, notes) is text; comments and the record of
// tracked changes (which holds deleted paragraphs) are skipped.
var odtRules = xmlRules{
	textIn:  setOf("p", "h"),
	skip:    setOf("annotation", "tracked-changes"),
	breaks:  setOf("line-break"),
	blanks:  setOf("s", "tab"),
	endLine: setOf("p", "h"),
}

// readODT reads content.xml, which holds the body.
func readODT(ctx context.Context, data []byte, lim Limits, tb *textBuilder) error {
	a, err := openArchive(data, lim)
	if err != nil {
		return err
	}
	return readPart(ctx, a, "content.xml", odtRules, lim, tb)
}
